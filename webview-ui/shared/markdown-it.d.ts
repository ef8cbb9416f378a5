/** The part of markdown-it (14.x, no bundled types) that webview-ui/shared/markdown.ts uses. */
declare module 'markdown-it' {
  export interface Token {
    type: string;
    tag: string;
    attrs: [string, string][] | null;
    nesting: 1 | 0 | -1;
    content: string;
    markup: string;
    info: string;
    hidden: boolean;
    block: boolean;
    map: [number, number] | null;
    children: Token[] | null;
    attrGet(name: string): string | null;
  }
  export interface StateInline {
    src: string;
    pos: number;
    posMax: number;
    push(type: string, tag: string, nesting: 1 | 0 | -1): Token;
  }
  export interface StateBlock {
    src: string;
    line: number;
    bMarks: number[];
    eMarks: number[];
    tShift: number[];
    sCount: number[];
    blkIndent: number;
    push(type: string, tag: string, nesting: 1 | 0 | -1): Token;
  }
  interface Ruler<R> {
    before(beforeName: string, ruleName: string, fn: R, options?: { alt?: string[] }): void;
  }
  export interface Options {
    html?: boolean;
    linkify?: boolean;
    typographer?: boolean;
    breaks?: boolean;
  }
  export default class MarkdownIt {
    constructor(options?: Options);
    inline: { ruler: Ruler<(state: StateInline, silent: boolean) => boolean> };
    block: {
      ruler: Ruler<(state: StateBlock, startLine: number, endLine: number, silent: boolean) => boolean>;
    };
    validateLink(url: string): boolean;
    parse(src: string, env: object): Token[];
    disable(rules: string | string[], ignoreInvalid?: boolean): this;
  }
}
