/**
 * Token counting without shipping a 2.8 MB BPE table in the .vsix: a conservative estimate per
 * character class (checked against o200k in test/unit/context-tokens.test.ts). The context manager
 * scales it by a factor that rises whenever the endpoint reports more prompt tokens than estimated.
 */

export interface TokenCounter {
  count(text: string): number;
}

const RUN =
  /[A-Za-z]+|[0-9]+|[ \t]*\n[\s]*|[ \t]{2,}|[ \t]|[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]|[^\x00-\x7f]/g;

/** o200k-like estimate: short words 1 token, long ~6 chars/token, digits 3/token, punctuation and non-ASCII 1 each. */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(RUN)) {
    const s = m[0];
    const c = s.charCodeAt(0);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) n += s.length <= 8 ? 1 : Math.ceil(s.length / 6);
    else if (c >= 48 && c <= 57) n += Math.ceil(s.length / 3);
    else if (s === ' ' || s === '\t') {
      // a single space joins a following word's token, but not a number's or a symbol's
      const next = text.charCodeAt((m.index ?? 0) + 1);
      if (!((next >= 65 && next <= 90) || (next >= 97 && next <= 122))) n += 1;
    } else n += 1;
  }
  return n;
}

export const estimateCounter: TokenCounter = { count: estimateTokens };
