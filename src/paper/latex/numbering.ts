/** The numbers LaTeX prints (sections, equations, floats, theorems, items) and the `\ref`s that name them. */
import { SECTIONS } from './vocabulary';

/** What a `\label` names: the last numbered thing before it. */
interface Target {
  kind: string;
  num: string;
}

type FloatKind = 'Figure' | 'Table' | 'Algorithm';

export class Numbering {
  readonly labels = new Map<string, Target>();
  private counters = { part: 0, chapter: 0, section: 0, subsection: 0, subsubsection: 0 };
  private floats: Record<FloatKind, number> = { Figure: 0, Table: 0, Algorithm: 0 };
  private equationCount = 0;
  /** Per counter: the count, and the section it counts within (a new section starts it again). */
  private theoremCount = new Map<string, { n: number; at: string }>();
  private appendix = false;
  private target: Target | undefined;

  constructor(
    /** A report or book: chapters above sections. */
    readonly chapters: boolean,
    /** `\numberwithin{equation}{section}`: equations numbered 2.1, 2.2, … */
    private readonly equationsWithin?: 'section' | 'chapter',
  ) {}

  /** `\label{key}`: the key names the last numbered thing. */
  label(key: string): void {
    if (this.target) this.labels.set(key, this.target);
  }

  /** `\appendix`: the top-level count starts again, lettered. */
  startAppendix(): void {
    this.appendix = true;
    if (this.chapters) this.counters.chapter = 0;
    else this.counters.section = 0;
  }

  /** A heading's number as printed ("2.1", "A"), or '' when it has none (starred, \part). */
  heading(name: string, star: boolean): string {
    if (star || name === 'part') return '';
    const c = this.counters;
    if (name === 'chapter') {
      c.chapter++;
      if (this.equationsWithin) this.equationCount = 0;
      c.section = c.subsection = c.subsubsection = 0;
    } else if (name === 'section') {
      c.section++;
      if (this.equationsWithin === 'section') this.equationCount = 0;
      c.subsection = c.subsubsection = 0;
    } else if (name === 'subsection') {
      c.subsection++;
      c.subsubsection = 0;
    } else if (name === 'subsubsection') c.subsubsection++;
    const top = this.chapters ? c.chapter : c.section;
    const head = this.appendix ? letter(top) : String(top);
    const parts = this.chapters
      ? [head, c.section, c.subsection, c.subsubsection]
      : [head, c.subsection, c.subsubsection];
    const depth = this.chapters ? SECTIONS[name]! : SECTIONS[name]! - 1;
    const num = parts.slice(0, Math.max(1, depth)).join('.');
    this.target = { kind: this.appendix && depth === 1 ? 'Appendix' : 'Section', num };
    return num;
  }

  /** A displayed equation's number: its `\tag` if it has one, else the next. */
  equation(tag?: string): string {
    const num = tag ?? this.nextEquation();
    this.target = { kind: 'Equation', num };
    return num;
  }

  isFloat(kind: string): kind is FloatKind {
    return Object.hasOwn(this.floats, kind);
  }

  /** A float's caption: its number. */
  float(kind: FloatKind): number {
    const n = ++this.floats[kind];
    this.target = { kind, num: String(n) };
    return n;
  }

  /** A theorem-like environment's number; `within`: numbered within sections. */
  theorem(title: string, counter: string, within: boolean): string {
    const at = within ? this.sectionNumber() : '';
    const prev = this.theoremCount.get(counter);
    const n = prev && prev.at === at ? prev.n + 1 : 1;
    this.theoremCount.set(counter, { n, at });
    const num = at ? `${at}.${n}` : String(n);
    this.target = { kind: title, num };
    return num;
  }

  /** The n-th item of a numbered list. */
  item(n: number): void {
    this.target = { kind: 'Item', num: String(n) };
  }

  /** `\ref` placeholders → numbers once every label is known. */
  resolveRefs(md: string): string {
    return md.replace(/\u0001([a-zA-Z]+):([^\u0001]*)\u0001/g, (_, cmd: string, keys: string) => {
      const parts = keys
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean)
        .map((k) => {
          const t = this.labels.get(k);
          if (!t) return { text: `[${k}]`, kind: '' };
          return { text: t.num, kind: t.kind };
        });
      if (cmd === 'eqref') return parts.map((p) => `(${p.text})`).join(', ');
      if (/^(autoref|Autoref|cref|Cref|labelcref|vref)$/.test(cmd) && parts[0]?.kind && cmd !== 'labelcref') {
        const kind = parts[0].kind === 'Item' ? 'item' : parts[0].kind;
        const words = parts.map((p) => (p.kind === 'Equation' ? `(${p.text})` : p.text)).join(', ');
        return `${kind}${parts.length > 1 ? 's' : ''} ${words}`;
      }
      return parts.map((p) => p.text).join(', ');
    });
  }

  /** The current top-level number (section, or chapter in a report), as printed. */
  private sectionNumber(): string {
    const top = this.chapters ? this.counters.chapter : this.counters.section;
    return this.appendix ? letter(top) : String(top);
  }

  private nextEquation(): string {
    const n = ++this.equationCount;
    if (!this.equationsWithin) return String(n);
    const top = this.chapters ? this.counters.chapter : this.counters.section;
    const within =
      this.equationsWithin === 'section' && this.chapters ? `${top}.${this.counters.section}` : String(top);
    return `${this.appendix ? letter(top) + within.slice(String(top).length) : within}.${n}`;
  }
}

const letter = (n: number) => (n >= 1 && n <= 26 ? String.fromCharCode(64 + n) : String(n));
