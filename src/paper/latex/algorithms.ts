/** Pseudocode (algorithmic/algorithmicx and algorithm2e) → an indented code block of steps. */
import type { Converter, Ctx } from './converter';
import { readArg, readControl, readGroup, readOptional } from './scan';
import { capitalize } from './vocabulary';

/** algorithm2e: blocks are commands with braced bodies; a step ends with `\;`. */
export function algorithm2e(conv: Converter, body: string, ctx: Ctx): string {
  const a = new Algorithm2e(conv, ctx);
  a.walk(body, 0);
  return a.captions + conv.block(`\`\`\`\n${a.lines.join('\n')}\n\`\`\``);
}

/** How algorithm2e's block commands open: `%s` is the condition. */
const OPENING: Record<string, string> = {
  While: 'while %s do',
  For: 'for %s do',
  ForEach: 'foreach %s do',
  ForAll: 'for all %s do',
  If: 'if %s then',
  uIf: 'if %s then',
  ElseIf: 'else if %s then',
  uElseIf: 'else if %s then',
  Repeat: 'repeat',
};
const KEYWORDS: Record<string, string> = {
  KwIn: 'Input:',
  Input: 'Input:',
  KwOut: 'Output:',
  Output: 'Output:',
  KwData: 'Data:',
  KwResult: 'Result:',
  KwRet: 'return',
  Return: 'return',
  KwTo: 'to',
};
/** Arguments of algorithm2e's keyword definitions, which print nothing. */
const DEFINITIONS: Record<string, number> = {
  SetKwInOut: 2,
  SetKwFunction: 2,
  SetKw: 2,
  SetKwData: 2,
  SetKwProg: 4,
  SetKwBlock: 4,
  SetKwRepeat: 3,
  SetKwIF: 4,
  SetKwFor: 4,
};

/** One level of an algorithm2e body being read: the step so far and where reading stands. */
interface Level {
  s: string;
  i: number;
  depth: number;
  step: string;
}

class Algorithm2e {
  readonly lines: string[] = [];
  captions = '';

  constructor(
    private readonly conv: Converter,
    private readonly ctx: Ctx,
  ) {}

  walk(s: string, depth: number): void {
    const at: Level = { s, i: 0, depth, step: '' };
    while (at.i < s.length) {
      const bs = s.indexOf('\\', at.i);
      if (bs < 0) {
        at.step += s.slice(at.i);
        break;
      }
      at.step += s.slice(at.i, bs);
      const c = readControl(s, bs);
      at.i = c.end;
      if (!this.command(at, c.name, c.star)) {
        // Anything else (math, text commands) stays in the step, converted as text.
        at.step += s.slice(bs, c.end);
      }
    }
    this.flush(at);
  }

  /** The command `name` just read at `at`; false when it is not one of algorithm2e's. */
  private command(at: Level, name: string, star: boolean): boolean {
    const pad = '  '.repeat(at.depth);
    if (name === ';') this.flush(at);
    else if (name === 'caption') {
      const o = readOptional(at.s, at.i);
      if (o) at.i = o.end;
      this.captions += this.conv.caption(this.args(at, 1)[0]!, star, this.ctx);
    } else if (Object.hasOwn(OPENING, name)) {
      this.flush(at);
      const [cond, inner] = this.args(at, 2);
      this.lines.push(`${pad}${OPENING[name]!.replace('%s', this.head(cond!))}`);
      this.walk(name === 'Repeat' ? cond! : inner!, at.depth + 1);
      if (name === 'Repeat') this.lines.push(`${pad}until ${this.head(inner!)}`);
      else if (!name.startsWith('u')) this.lines.push(`${pad}end`);
    } else if (name === 'eIf') {
      this.flush(at);
      const [cond, yes, no] = this.args(at, 3);
      this.lines.push(`${pad}if ${this.head(cond!)} then`);
      this.walk(yes!, at.depth + 1);
      this.lines.push(`${pad}else`);
      this.walk(no!, at.depth + 1);
      this.lines.push(`${pad}end`);
    } else if (name === 'Else' || name === 'uElse') {
      this.flush(at);
      this.lines.push(`${pad}else`);
      this.walk(this.args(at, 1)[0]!, at.depth + 1);
      if (name === 'Else') this.lines.push(`${pad}end`);
    } else if (/^l(If|For|ForEach|While|Else)$/.test(name)) this.oneLine(at, name);
    else if (Object.hasOwn(KEYWORDS, name)) {
      if (name === 'KwTo') at.step += ' to ';
      else {
        this.flush(at);
        this.lines.push(`${pad}${KEYWORDS[name]} ${this.head(this.args(at, 1)[0]!)}`.trimEnd());
      }
    } else if (name === 'tcp' || name === 'tcc') {
      const t = this.head(this.args(at, 1)[0]!);
      if (this.lines.length && !at.step.trim()) this.lines[this.lines.length - 1] += ` // ${t}`;
      else at.step += ` // ${t}`;
    } else if (Object.hasOwn(DEFINITIONS, name)) this.args(at, DEFINITIONS[name]!);
    else return false;
    return true;
  }

  /** `\lIf{c}{x}` and its kin: a block on one line. */
  private oneLine(at: Level, name: string): void {
    this.flush(at);
    const [cond, inner] = name === 'lElse' ? ['', this.args(at, 1)[0]] : this.args(at, 2);
    const word = { lIf: 'if', lFor: 'for', lForEach: 'foreach', lWhile: 'while', lElse: 'else' }[name]!;
    const then = name === 'lIf' ? ' then' : name === 'lElse' ? '' : ' do';
    const condition = cond ? ` ${this.head(cond)}` : '';
    this.lines.push(`${'  '.repeat(at.depth)}${word}${condition}${then} ${this.head(inner!)}`);
  }

  /** The step read so far as a line of its own. */
  private flush(at: Level): void {
    const t = this.head(at.step);
    if (t) this.lines.push(`${'  '.repeat(at.depth)}${t}`);
    at.step = '';
  }

  private args(at: Level, n: number): string[] {
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      const a = readArg(at.s, at.i);
      out.push(a.text);
      at.i = a.end;
    }
    return out;
  }

  private head(tex: string): string {
    return this.conv.inline(tex, this.ctx);
  }
}

const OPEN = /^(If|For|ForAll|While|Function|Procedure|Loop|Repeat|IF|FOR|FORALL|WHILE|LOOP|REPEAT)$/;
const CLOSE =
  /^(EndIf|EndFor|EndWhile|EndFunction|EndProcedure|EndLoop|Until|ENDIF|ENDFOR|ENDWHILE|ENDLOOP|UNTIL)$/;
const MID = /^(Else|ElsIf|ELSE|ELSIF)$/;
const UNTIL = /^(Until|UNTIL)$/;
/** algorithmic's statements: each runs to the next. */
const STATEMENT =
  /^(State|STATE|Statex|If|IF|ElsIf|ELSIF|Else|ELSE|EndIf|ENDIF|For|FOR|ForAll|FORALL|EndFor|ENDFOR|While|WHILE|EndWhile|ENDWHILE|Repeat|REPEAT|Until|UNTIL|Loop|LOOP|EndLoop|ENDLOOP|Return|RETURN|Require|REQUIRE|Ensure|ENSURE|Input|Output|Function|EndFunction|Procedure|EndProcedure|Comment|COMMENT|Call)$/;

/** algorithmic (and algorithmicx): `\State`, `\If{c}` … `\EndIf`, one statement per line, blocks indented. */
export function algorithmic(conv: Converter, body: string, ctx: Ctx): string {
  const lines: string[] = [];
  let depth = 0;
  const re = /\\([A-Za-z]+)(?![a-zA-Z])/g;
  let pending: { key: string; start: number } | undefined;
  const flush = (stop: number) => {
    if (!pending) return;
    const { key } = pending;
    const { head, rest } = statementHead(conv, key, body.slice(pending.start, stop), ctx);
    const text = conv.inline(rest, ctx);
    if (CLOSE.test(key) && !UNTIL.test(key)) depth = Math.max(0, depth - 1);
    const indent = '  '.repeat(Math.max(0, depth - (MID.test(key) ? 1 : 0)));
    const line = `${indent}${[statementWord(key, head), text].filter(Boolean).join(' ')}`;
    if (line.trim()) lines.push(line);
    if (OPEN.test(key)) depth++;
    if (UNTIL.test(key)) depth = Math.max(0, depth - 1);
  };
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (!STATEMENT.test(m[1]!)) continue;
    flush(m.index);
    pending = { key: m[1]!, start: m.index + m[0].length };
  }
  if (!pending) return conv.convert(body, ctx);
  flush(body.length);
  return conv.block(`\`\`\`\n${lines.join('\n')}\n\`\`\``);
}

/** A statement's braced condition or name (`\If{c}`, `\Function{f}{args}`) read off its text. */
function statementHead(conv: Converter, key: string, text: string, ctx: Ctx): { head: string; rest: string } {
  let rest = text;
  let head = '';
  if (
    /^(If|IF|ElsIf|ELSIF|While|WHILE|For|FOR|ForAll|FORALL|Until|UNTIL|Function|Procedure|Call)$/.test(key)
  ) {
    const g = readGroup(rest, 0);
    if (g) {
      head = conv.inline(g.text, ctx);
      rest = rest.slice(g.end);
      if (/^(Function|Procedure|Call)$/.test(key)) {
        const a = readGroup(rest, 0);
        if (a) {
          head += `(${conv.inline(a.text, ctx)})`;
          rest = rest.slice(a.end);
        }
      }
    }
  }
  return { head, rest };
}

/** The words a statement starts with (`if c then`, `end for`, …); '' for a plain `\State`. */
function statementWord(key: string, head: string): string {
  const norm = key === 'STATE' || key === 'Statex' ? 'State' : capitalizeUpper(key);
  if (norm === 'State') return '';
  const word: Record<string, string> = {
    If: `if ${head} then`,
    ElsIf: `else if ${head} then`,
    While: `while ${head} do`,
    For: `for ${head} do`,
    ForAll: `for all ${head} do`,
    Until: `until ${head}`,
    Function: `function ${head}`,
    Procedure: `procedure ${head}`,
    Call: head,
    Return: 'return',
    Require: 'Require:',
    Ensure: 'Ensure:',
    Input: 'Input:',
    Output: 'Output:',
    Else: 'else',
    Repeat: 'repeat',
    Loop: 'loop',
    Comment: '▷',
  };
  return word[norm] ?? (CLOSE.test(key) ? `end ${norm.replace(/^End/i, '').toLowerCase()}` : norm);
}

/** algorithmic's upper-case names (`\ENDFOR`) as algorithmicx spells them (`EndFor`). */
const capitalizeUpper = (s: string) =>
  s === s.toUpperCase()
    ? ({
        FORALL: 'ForAll',
        ELSIF: 'ElsIf',
        ENDIF: 'EndIf',
        ENDFOR: 'EndFor',
        ENDWHILE: 'EndWhile',
        ENDLOOP: 'EndLoop',
      }[s] ?? capitalize(s))
    : s;
