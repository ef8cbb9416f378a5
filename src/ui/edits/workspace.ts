/**
 * The user's files as VS Code sees them: an open editor's text (saved or not) wins over the disk,
 * and text changes go through one WorkspaceEdit per decision (undoable, minimal line edits, so
 * cursors and folds elsewhere in the file stay put). Documents that were saved before the edit are
 * saved after it; an unsaved editor stays unsaved, with the agent's change merged into it.
 */
import { createHash } from 'node:crypto';
import { diffLines } from 'diff';
import * as vscode from 'vscode';
import { decodeText } from '../../edits/text';
import {
  hostBlobId,
  type UserContent,
  type UserFileEdit,
  type UserFiles,
  writeViaTemp,
} from '../../edits/user-files';
import { hasEscapedBytes } from '../../sandbox/path-bytes';
import { resolveWorkspacePath } from '../../sandbox/sandbox';

export class VscodeUserFiles implements UserFiles {
  /** Set for a local folder: large files are compared and written as streams, not held in memory. */
  readonly fileId?: UserFiles['fileId'];
  readonly writeFrom?: UserFiles['writeFrom'];

  constructor(private readonly folder: vscode.Uri) {
    if (folder.scheme !== 'file') return;
    this.fileId = async (path) => {
      const uri = this.uri(path);
      const doc = openDocument(uri);
      if (doc) {
        const bytes = Buffer.from(doc.getText(), 'utf8');
        const id = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        return { id, size: bytes.length };
      }
      return hostBlobId(uri.fsPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
    };
    this.writeFrom = async (path, fill) => {
      await writeViaTemp(this.uri(path).fsPath, fill);
      return true;
    };
  }

  uri(path: string): vscode.Uri {
    // A URI cannot carry a name's bytes that are not UTF-8: refuse rather than write another name.
    if (hasEscapedBytes(path))
      throw new Error(
        `The file name is not valid UTF-8 (${path}); VS Code cannot write it. Ask the agent to rename it, or apply proposals.patch.`,
      );
    return vscode.Uri.joinPath(this.folder, ...resolveWorkspacePath(path).split('/'));
  }

  async read(path: string): Promise<UserContent | null> {
    const uri = this.uri(path);
    const doc = openDocument(uri);
    if (doc) return doc.getText();
    try {
      return await vscode.workspace.fs.readFile(uri);
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async apply(edits: UserFileEdit[], label: string): Promise<boolean> {
    const we = new vscode.WorkspaceEdit();
    const meta: vscode.WorkspaceEditEntryMetadata = { label, needsConfirmation: false };
    const save: vscode.TextDocument[] = [];
    const rawWrites: { uri: vscode.Uri; bytes: Uint8Array }[] = [];
    const created: vscode.Uri[] = [];
    for (const e of edits) {
      const uri = this.uri(e.path);
      if (e.content === null) {
        we.deleteFile(uri, { ignoreIfNotExists: true }, meta);
        continue;
      }
      const exists = await this.exists(uri);
      const text = typeof e.content === 'string' ? e.content : decodeText(e.content) ? utf8(e.content) : null;
      if (text === null) {
        // Binary content: there is no text undo for it, so it is written directly.
        if (typeof e.content !== 'string') rawWrites.push({ uri, bytes: e.content });
      } else if (!exists) {
        // A new text file: create it empty and insert the text, then save (both undoable).
        we.createFile(uri, { ignoreIfExists: true }, meta);
        we.insert(uri, new vscode.Position(0, 0), text, meta);
        created.push(uri);
      } else {
        const doc = await vscode.workspace.openTextDocument(uri);
        for (const edit of lineEdits(doc, text)) we.replace(uri, edit.range, edit.newText, meta);
        if (!doc.isDirty) save.push(doc);
      }
    }
    if (we.size > 0 && !(await vscode.workspace.applyEdit(we))) return false;
    for (const w of rawWrites) await vscode.workspace.fs.writeFile(w.uri, w.bytes);
    for (const uri of created) save.push(await vscode.workspace.openTextDocument(uri));
    // Saved unconditionally: the extension host learns of the new dirty state after applyEdit
    // resolves, so `isDirty` can still read false here; saving a clean document is a no-op.
    for (const doc of save) await doc.save();
    return true;
  }

  private async exists(uri: vscode.Uri): Promise<boolean> {
    if (openDocument(uri)) return true;
    try {
      await vscode.workspace.fs.stat(uri);
      return true;
    } catch {
      return false;
    }
  }
}

/** FileSystemError does not survive every host boundary as an instance (code-server): check its shape too. */
function notFound(err: unknown): boolean {
  if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') return true;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  return (
    e?.code === 'FileNotFound' ||
    e?.code === 'ENOENT' ||
    /EntryNotFound|FileNotFound|ENOENT/.test(`${e?.name} ${e?.message}`)
  );
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  const key = uri.toString();
  return vscode.workspace.textDocuments.find((d) => !d.isClosed && d.uri.toString() === key);
}

/** Line-level replacements turning the document's text into `next`. */
export function lineEdits(doc: vscode.TextDocument, next: string): vscode.TextEdit[] {
  const parts = diffLines(doc.getText(), next);
  const edits: vscode.TextEdit[] = [];
  let offset = 0;
  for (let i = 0; i < parts.length; ) {
    const p = parts[i]!;
    if (!p.added && !p.removed) {
      offset += p.value.length;
      i++;
      continue;
    }
    let removed = '';
    let added = '';
    for (; i < parts.length && (parts[i]!.added || parts[i]!.removed); i++) {
      if (parts[i]!.removed) removed += parts[i]!.value;
      else added += parts[i]!.value;
    }
    const range = new vscode.Range(doc.positionAt(offset), doc.positionAt(offset + removed.length));
    edits.push(vscode.TextEdit.replace(range, added));
    offset += removed.length;
  }
  return edits;
}
