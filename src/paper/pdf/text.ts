/** Small text helpers for PDF → Markdown: ligatures, de-hyphenation, pattern tests. */

const LIGATURES: Record<string, string> = {
  '\uFB00': 'ff',
  '\uFB01': 'fi',
  '\uFB02': 'fl',
  '\uFB03': 'ffi',
  '\uFB04': 'ffl',
  '\uFB05': 'st',
  '\uFB06': 'st',
};

export function fixLigatures(s: string): string {
  return s.replace(/[\uFB00-\uFB06]/g, (c) => LIGATURES[c] ?? c);
}

/** Word parts after which a line-end hyphen is a real hyphen ("cross-validation"), not a word break. */
const KEEP_HYPHEN = new Set([
  'self',
  'non',
  'cross',
  'well',
  'multi',
  'semi',
  'state',
  'long',
  'short',
  'high',
  'low',
  'fine',
  'hold',
  'leave',
  'one',
  'two',
  'three',
  'pre-trained',
  'data',
  'task',
  'end',
  'real',
  'zero',
  'few',
  'large',
  'small',
  'open',
  'closed',
]);

/** Lower-cased words of a document (hyphenated compounds kept whole), to decide line-end hyphens. */
export function vocabulary(texts: string[]): Set<string> {
  const out = new Set<string>();
  for (const t of texts) for (const w of t.toLowerCase().match(/\p{L}+(?:-\p{L}+)*/gu) ?? []) out.add(w);
  return out;
}

/**
 * Joins two wrapped lines of one paragraph, undoing end-of-line hyphenation: the hyphen stays when the
 * hyphenated compound occurs elsewhere in the document (or the next part is capitalised), and goes when
 * the joined word does; otherwise a short list of prefixes decides.
 */
export function joinWrapped(a: string, b: string, vocab?: Set<string>): string {
  if (a === '') return b;
  if (b === '') return a;
  const m = /(\p{L}+)-$/u.exec(a);
  if (m && /^\p{Lu}/u.test(b)) return a + b;
  if (m && /^\p{Ll}/u.test(b)) {
    const left = m[1]!.toLowerCase();
    const right = (/^\p{L}+/u.exec(b)?.[0] ?? '').toLowerCase();
    if (vocab?.has(`${left}-${right}`)) return a + b;
    if (vocab?.has(left + right)) return a.slice(0, -1) + b;
    return KEEP_HYPHEN.has(left) ? a + b : a.slice(0, -1) + b;
  }
  // A URL or DOI broken at a line end continues without a space.
  const last = /\S+$/.exec(a)?.[0] ?? '';
  if (/(:\/\/|www\.|\/)/.test(last) && /[./_-]$/.test(last)) return a + b;
  return `${a} ${b}`;
}

export const CAPTION_RE = /^(Figure|Fig\.|Table|Algorithm|Listing)\s*[A-Z]?\d+[a-z]?\s*[.:|]/;
export const LIST_RE =
  /^([•◦▪‣∙·∗*]|[-–—](?=\s)|\d{1,2}[.)](?=\s)|\([a-z0-9]{1,3}\)(?=\s)|\[\d{1,3}\](?=\s))\s*/;
export const NUMBERED_HEADING_RE =
  /^((?:\d{1,2}(?:\.\d{1,2}){0,3})\.?|[A-H](?:\.\d{1,2}){0,2}\.?|[IVX]{1,4}\.)\s+(\S.*)$/u;

const KNOWN_SECTIONS =
  /^(abstract|introduction|related work|background|preliminaries|method|methods|methodology|approach|experiments?|experimental (setup|results)|evaluation|results|discussion|limitations|conclusions?|conclusions? and future work|future work|acknowledge?ments?|references|bibliography|appendix|appendices|supplementary material|broader impact|ethics statement|reproducibility statement)$/i;

export function isKnownSectionName(s: string): boolean {
  return KNOWN_SECTIONS.test(s.trim());
}

/** Plausible person name: 2-5 words, capitalised, particles allowed. */
export function isNameLike(s: string): boolean {
  const t = s.trim().replace(/[*†‡§¶∗]+$/u, '');
  if (!t || /\d|@|university|institute|department|lab\b/i.test(t)) return false;
  const words = t.split(/\s+/);
  if (words.length < 2 || words.length > 5) return false;
  return words.every((w) => /^(\p{Lu}[\p{L}'’.-]*|de|van|von|der|da|di|la|le|du|del)$/u.test(w));
}

/** Splits an author line ("A, B and C") into names. */
export function splitAuthors(s: string): string[] {
  return s
    .split(/\s*(?:,|;|\band\b|&)\s*/u)
    .map((x) => x.trim())
    .filter(Boolean);
}
