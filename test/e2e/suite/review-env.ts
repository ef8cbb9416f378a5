/** Environment of test/e2e/review-detached.test.ts (review of a detached engine's proposals). */
export const REVIEW_ENV = {
  paper: 'KLONG_E2E_REVIEW_PAPER',
  modelUrl: 'KLONG_E2E_REVIEW_MODEL_URL',
  image: 'KLONG_E2E_REVIEW_IMAGE',
  /** Written by the suite once the approval mode is auto-accept: the scripted model then writes one more file. */
  autoFlag: 'KLONG_E2E_REVIEW_AUTO_FLAG',
} as const;

export const REVIEW_LINES = Array.from({ length: 20 }, (_, i) => `value_${i + 1} = ${i + 1}`);
export const REVIEW_ORIGINAL = `${REVIEW_LINES.join('\n')}\n`;
/** Two changes far apart: two hunks (lines 2 and 18). */
export const REVIEW_PROPOSED = REVIEW_ORIGINAL.replace('value_2 = 2\n', 'value_2 = 2 * scale\n').replace(
  'value_18 = 18\n',
  'value_18 = compute(18)\n',
);
/** The user's file after accepting the first hunk and rejecting the second. */
export const REVIEW_ACCEPTED = REVIEW_ORIGINAL.replace('value_2 = 2\n', 'value_2 = 2 * scale\n');
export const REVIEW_LATER = 'landed without review\n';
