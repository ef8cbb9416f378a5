/** QuickPicks, the ask-each prompt and the reason box for proposed edits. */
import * as vscode from 'vscode';
import { describeHunk, type Hunk } from '../../edits/hunks';
import type { Proposal } from '../../edits/proposal';
import type { Decision } from '../../edits/queue';

export type ProposalChoice =
  | { action: 'open' | 'accept' | 'reject'; path: string }
  | { action: 'acceptAll' | 'rejectAll'; path?: undefined };

const ACCEPT: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('check'), tooltip: 'Accept' };
const REJECT: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('close'), tooltip: 'Reject…' };

function describe(p: Proposal): string {
  const kind = p.renamedFrom
    ? `renamed from ${p.renamedFrom}`
    : p.kind === 'binary'
      ? 'binary / large, whole file'
      : p.kind === 'add'
        ? 'new file'
        : p.kind === 'delete'
          ? 'deleted'
          : `${p.hunks.length} change${p.hunks.length === 1 ? '' : 's'}`;
  return p.wholeFileOnly ? kind : `+${p.stats.additions} −${p.stats.deletions} · ${kind}`;
}

type Item = vscode.QuickPickItem & { choice?: ProposalChoice };

/** Lists proposals; per-item buttons accept or reject, Enter opens the diff. */
export function pickProposal(
  list: Proposal[],
  opts: { actions?: boolean } = {},
): Promise<ProposalChoice | undefined> {
  const actions = opts.actions ?? true;
  if (list.length === 0) {
    void vscode.window.showInformationMessage('KLong: no proposed edits are waiting.');
    return Promise.resolve(undefined);
  }
  const items: Item[] = list.map((p) => ({
    label: p.sensitive ? `$(shield) ${p.path}` : `$(file) ${p.path}`,
    description: p.sensitive ? `sensitive · ${describe(p)}` : describe(p),
    detail: p.sensitive
      ? `Sensitive: ${p.sensitive}. Accept it on its own.${p.note ? ` ${p.note}` : ''}`
      : p.note,
    buttons: actions ? [ACCEPT, REJECT] : [],
    choice: { action: 'open', path: p.path },
  }));
  const ordinary = list.filter((p) => !p.sensitive).length;
  if (actions && list.length > 1) {
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      {
        label:
          ordinary === list.length
            ? `$(check-all) Accept all ${list.length}`
            : `$(check-all) Accept all ${ordinary} but the ${list.length - ordinary} sensitive`,
        choice: { action: 'acceptAll' },
      },
      { label: `$(close-all) Reject all ${list.length}…`, choice: { action: 'rejectAll' } },
    );
  }
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = `KLong: ${list.length} proposed edit${list.length === 1 ? '' : 's'}`;
    qp.placeholder = 'Enter opens the diff; the buttons accept or reject';
    qp.items = items;
    let done = false;
    const finish = (c: ProposalChoice | undefined) => {
      if (done) return;
      done = true;
      resolve(c);
      qp.dispose();
    };
    qp.onDidAccept(() => finish(qp.selectedItems[0]?.choice));
    qp.onDidTriggerItemButton((e) => {
      const path = e.item.choice?.path;
      if (path) finish({ action: e.button === ACCEPT ? 'accept' : 'reject', path });
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

export async function pickHunk(p: Proposal, which: 'accept' | 'reject'): Promise<Hunk | undefined> {
  const pick = await vscode.window.showQuickPick(
    p.hunks.map((h) => ({
      label: describeHunk(h),
      description: `+${h.additions} −${h.deletions}`,
      detail: h.lines
        .filter((l) => l[0] === '+' || l[0] === '-')
        .slice(0, 3)
        .join('  ⏎  '),
      hunk: h,
    })),
    { title: `${which === 'accept' ? 'Accept' : 'Reject'} which change in ${p.path}?` },
  );
  return pick?.hunk;
}

/** undefined = cancelled; '' = rejected without a reason. */
export function rejectReason(what: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Reject ${what}`,
    prompt:
      'Optional: tell the agent why (it reads this as its next observation). Enter rejects, Escape cancels.',
    placeHolder: 'e.g. keep the public API unchanged',
  });
}

/** ask-each: a modal asks (a notification where modals are refused); undefined leaves the edit queued. */
export async function askDecision(p: Proposal): Promise<Decision | undefined> {
  const verb = p.renamedFrom
    ? `to rename ${p.renamedFrom} to`
    : p.change === 'deleted'
      ? 'to delete'
      : 'an edit to';
  const stats = p.wholeFileOnly ? '' : ` (+${p.stats.additions} −${p.stats.deletions})`;
  const message = `KLong proposes ${verb} ${p.path}${stats}.${p.sensitive ? ' Sensitive file.' : ''}`;
  const warn = p.sensitive ? `Sensitive: ${p.sensitive}. Read the diff before accepting.\n` : '';
  const detail = `${warn}${p.note ? `${p.note}\n` : ''}The agent is waiting for your decision.`;
  const buttons = ['Accept', 'Reject…', 'Decide later'];
  let answer: string | undefined;
  try {
    answer = await vscode.window.showInformationMessage(message, { modal: true, detail }, ...buttons);
  } catch {
    // Some hosts refuse modal dialogs (VS Code under test): ask with a notification instead.
    answer = await vscode.window.showInformationMessage(`${message} ${detail}`, ...buttons);
  }
  if (answer === 'Accept') return { decision: 'accept' };
  if (answer === 'Reject…') {
    const why = await rejectReason(p.path);
    return why === undefined ? undefined : { decision: 'reject', reason: why || undefined };
  }
  return undefined;
}
