import * as vscode from 'vscode';
import { fetchSource, isPdfBytes, resolveSource } from '../paper/source';
import type { Section } from '../paper/types';
import {
  type FromPaper,
  fromPaperSchema,
  MARKDOWN_MAX,
  type OutlineSection,
  type PaperViewState,
  paperViewStateSchema,
  type ToPaper,
} from '../protocol/paper';
import { receive } from '../protocol/validate';
import type { ExternalLinks } from './external-links';
import { webviewHtml } from './webview-html';

export interface PaperPanelHost {
  links: ExternalLinks;
  /** The engine's download cache of papers (`<state>/cache/papers`). */
  cacheDir: string;
}

export interface ShowPaperOptions {
  /** The PDF or Markdown paper (a file or workspace URI)... */
  uri?: vscode.Uri;
  /**
   * ...or what the user named: a path, an http(s) URL or an arXiv id / URL. Downloads go through the
   * engine's paper cache (<state>/cache/papers), so a paper the session already fetched is not fetched again.
   */
  source?: string;
  title?: string;
  /** Section index of the paper (src/paper) for the outline; without it the PDF's own outline is used. */
  sections?: Pick<Section, 'id' | 'title' | 'level'>[];
  page?: number;
  zoom?: number;
}

/**
 * The paper beside the editor: pdf.js renders the PDF page by page in the webview. One panel per
 * manager; showing another paper reuses it. A restored window reopens it through the serializer.
 */
export class PaperPanel implements vscode.Disposable {
  static readonly viewType = 'klong.paper';

  private ready = false;
  private pending: ToPaper[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly loaded = new vscode.EventEmitter<number>();
  private readonly disposed = new vscode.EventEmitter<void>();
  /** Fires with the page count once the webview has opened the PDF. */
  readonly onDidLoad = this.loaded.event;
  readonly onDidDispose = this.disposed.event;
  pages = 0;
  highlighted: string | null = null;
  /** What was loaded last, with the page and zoom the reader is at: a re-created webview reloads it. */
  private last: ShowPaperOptions | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly log: (message: string) => void,
    private readonly host: PaperPanelHost,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    const pdfjs = vscode.Uri.joinPath(root, 'pdfjs');
    panel.webview.html = webviewHtml(panel.webview, root, 'paper', 'Paper', {
      pdfjs: panel.webview.asWebviewUri(vscode.Uri.joinPath(pdfjs, 'pdf.min.mjs')).toString(),
      worker: panel.webview.asWebviewUri(vscode.Uri.joinPath(pdfjs, 'pdf.worker.min.mjs')).toString(),
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw) => {
        const msg = receive(fromPaperSchema, raw, log, 'the paper panel');
        if (msg) this.handle(msg);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** The paper's bytes, read or downloaded here (the webview never touches the disk or the network). */
  private async read(
    opts: ShowPaperOptions,
  ): Promise<{ bytes: Uint8Array<ArrayBuffer>; uri: string; source?: string; markdown: boolean }> {
    const view = (buf: Uint8Array) =>
      // A Node Buffer would arrive as a plain object; a Uint8Array view arrives as one.
      new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength);
    const fromFile = async (uri: vscode.Uri) => {
      const bytes = view(await vscode.workspace.fs.readFile(uri));
      // Anything that is not a PDF (Markdown, a .tex with no PDF beside it) is shown as text.
      return { bytes, uri: uri.toString(), markdown: !isPdfBytes(bytes) };
    };
    if (opts.uri) return fromFile(opts.uri);
    if (!opts.source) throw new Error('no paper given (a file, a URL or an arXiv id)');
    const src = resolveSource(opts.source);
    if (src.kind === 'file') return fromFile(vscode.Uri.file(src.path));
    const got = await fetchSource(src, { cacheDir: this.host.cacheDir });
    this.log(`paper panel: ${src.url} ${got.fromCache ? 'from the download cache' : 'downloaded'}`);
    return {
      bytes: view(got.bytes),
      uri: src.url,
      source: opts.source,
      markdown: got.markdown, // decided by the bytes, also for a download read from the cache
    };
  }

  /** Loads a PDF or a Markdown paper into the panel. */
  async load(opts: ShowPaperOptions): Promise<void> {
    this.last = opts;
    this.pages = 0; // the previous paper's count, until this one has loaded
    const named = opts.uri?.path ?? opts.source ?? '';
    const title = opts.title ?? named.split(/[/\\]/).pop() ?? 'Paper';
    this.panel.title = title || 'Paper';
    let got: Awaited<ReturnType<PaperPanel['read']>>;
    try {
      got = await this.read(opts);
    } catch (err) {
      const where = opts.uri?.fsPath ?? opts.source ?? '';
      const why = err instanceof Error ? err.message : String(err);
      // PaperError messages already start with the file or URL.
      const text = why.startsWith(where) ? `Could not open ${why}` : `Could not read ${where}: ${why}`;
      this.log(text);
      this.send({ type: 'paper/error', message: text });
      throw new Error(text);
    }
    const sections: OutlineSection[] = (opts.sections ?? []).map((s) => ({
      id: s.id,
      title: s.title,
      level: Math.min(9, Math.max(1, Math.round(s.level))),
    }));
    const source = got.source ? { source: got.source } : {};
    if (got.markdown) {
      const markdown = new TextDecoder('utf-8').decode(got.bytes);
      if (markdown.length > MARKDOWN_MAX) {
        const text = `${got.uri} is too large to show (${Math.round(markdown.length / 1024 / 1024)} MB of Markdown)`;
        this.send({ type: 'paper/error', message: text });
        throw new Error(text);
      }
      this.send({ type: 'paper/markdown', uri: got.uri, ...source, title, markdown, sections });
    } else {
      this.send({
        type: 'paper/load',
        uri: got.uri,
        ...source,
        title,
        data: got.bytes,
        sections,
        ...(opts.page ? { page: opts.page } : {}),
        ...(opts.zoom ? { zoom: opts.zoom } : {}),
      });
    }
    if (this.highlighted) this.send({ type: 'paper/highlight', sectionId: this.highlighted });
  }

  /** Marks the section the agent is reading (null clears it). */
  highlight(sectionId: string | null): void {
    this.highlighted = sectionId;
    this.send({ type: 'paper/highlight', sectionId });
  }

  private isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposed.fire();
    this.loaded.dispose();
    this.disposed.dispose();
    this.panel.dispose();
  }

  private send(msg: ToPaper): void {
    if (this.ready) void this.panel.webview.postMessage(msg);
    else this.pending.push(msg);
  }

  private handle(msg: FromPaper): void {
    switch (msg.type) {
      case 'ready': {
        // Also sent again when a hidden panel's webview is re-created: reload where the reader was.
        const reloading = this.ready && this.last !== undefined;
        this.ready = true;
        for (const m of this.pending.splice(0)) void this.panel.webview.postMessage(m);
        if (reloading && this.last) void this.load(this.last).catch(() => undefined);
        return;
      }
      case 'paper/loaded':
        this.pages = msg.pages;
        this.loaded.fire(msg.pages);
        return;
      case 'paper/page':
        if (this.last) this.last = { ...this.last, page: msg.page, zoom: msg.zoom };
        return;
      case 'link/open':
        void this.host.links.open(msg.url, 'the paper panel');
        return;
      case 'log':
        this.log(`[paper panel] ${msg.level}: ${msg.message}`);
        return;
    }
  }
}

/** Owns the paper panel of a window and restores it after a reload (WebviewPanelSerializer). */
export class PaperPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  current: PaperPanel | undefined;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: (message: string) => void,
    private readonly host: PaperPanelHost,
  ) {
    this.registration = vscode.window.registerWebviewPanelSerializer(PaperPanel.viewType, this);
  }

  /** Opens (or reuses) the panel beside the editor without taking focus, and loads the paper. */
  async show(opts: ShowPaperOptions): Promise<PaperPanel> {
    let p = this.current;
    if (p) p.panel.reveal(undefined, true);
    else {
      const panel = vscode.window.createWebviewPanel(
        PaperPanel.viewType,
        opts.title ?? 'Paper',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, enableFindWidget: false },
      );
      p = this.adopt(panel);
    }
    await p.load(opts);
    return p;
  }

  highlight(sectionId: string | null): void {
    this.current?.highlight(sectionId);
  }

  /** Where downloaded papers are cached (shared with the engine, so a paper is fetched once). */
  get cacheDir(): string {
    return this.host.cacheDir;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const p = this.adopt(panel);
    const parsed = paperViewStateSchema.safeParse(state);
    if (!parsed.success) {
      this.log('paper panel restored without a readable state; it stays empty');
      return;
    }
    const s: PaperViewState = parsed.data;
    await p
      .load({
        ...(s.source ? { source: s.source } : { uri: vscode.Uri.parse(s.uri) }),
        title: s.title,
        sections: s.sections,
        page: s.page,
        zoom: s.zoom,
      })
      .catch(() => undefined);
  }

  dispose(): void {
    this.registration.dispose();
    this.current?.dispose();
  }

  private adopt(panel: vscode.WebviewPanel): PaperPanel {
    const p = new PaperPanel(panel, this.extensionUri, this.log, this.host);
    this.current?.dispose();
    this.current = p;
    p.onDidDispose(() => {
      if (this.current === p) this.current = undefined;
    });
    return p;
  }
}
