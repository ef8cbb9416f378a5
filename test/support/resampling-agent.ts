/**
 * A scripted model that reproduces the fixture paper "[Re] Resampling methods for evaluating
 * classification accuracy of wildlife habitat models" (Etherington & Lieske): it plans, reads the
 * paper, writes the experiment (NumPy LDA with resubstitution, hold-out, K-fold and bootstrap error
 * estimates), writes reproduce.sh and a README, runs it and ends the task. It also answers judge
 * prompts, so a session graded against a rubric completes. The experiment code is ours.
 *
 * The next action is chosen from the conversation (which step's tool call already has a result),
 * not from a request counter, so a session resumed after a reload or a crash continues correctly.
 */
import { join } from 'node:path';
import { FIXTURES } from './fixtures';
import { type ChatBody, call, reply, type Script, type StepResult, tools } from './model-server';

/** The fixture paper's folder (paper.pdf, expected_results.tsv), in ../shared next to the repo. */
export const RESAMPLING_FIXTURE = join(FIXTURES, 'papers', 'etherington-lieske-resampling');

export const RESAMPLING_PY = String.raw`"""Prediction error of LDA on uninformative data, estimated by resubstitution, hold-out,
K-fold cross-validation and the bootstrap (Verbyla & Litvaitis 1989; Etherington & Lieske 2019).
The true error is 0.5: the 10 predictors carry no information about the label."""
import os
import sys

import numpy as np

N_SAMPLES, N_PREDICTORS = 30, 10


def fit(X, y):
    m0, m1 = X[y == 0].mean(0), X[y == 1].mean(0)
    centred = np.vstack([X[y == 0] - m0, X[y == 1] - m1])
    cov = centred.T @ centred / max(len(X) - 2, 1)
    w = np.linalg.pinv(cov) @ (m1 - m0)
    prior = y.mean()
    return w, -0.5 * (m0 + m1) @ w + np.log(prior / (1 - prior))


def error(model, X, y):
    w, b = model
    return float(np.mean((X @ w + b > 0).astype(int) != y))


def both_classes(y):
    return 0 < y.sum() < len(y)


def holdout(rng, X, y, p, repeats):
    errs = []
    while len(errs) < repeats:
        test = rng.random(len(y)) < p
        if both_classes(y[~test]) and test.any():
            errs.append(error(fit(X[~test], y[~test]), X[test], y[test]))
    return float(np.mean(errs))


def kfold(rng, X, y, k):
    folds = np.array_split(rng.permutation(len(y)), k)
    wrong = 0
    for f in folds:
        train = np.setdiff1d(np.arange(len(y)), f)
        wrong += error(fit(X[train], y[train]), X[f], y[f]) * len(f)
    return wrong / len(y)


def bootstrap(rng, X, y, b):
    """Out-of-bag (leave-one-out) bootstrap error."""
    wrong, count = np.zeros(len(y)), np.zeros(len(y))
    done = 0
    while done < b:
        idx = rng.integers(0, len(y), len(y))
        oob = np.setdiff1d(np.arange(len(y)), idx)
        if not both_classes(y[idx]) or len(oob) == 0:
            continue
        model = fit(X[idx], y[idx])
        w, c = model
        wrong[oob] += (X[oob] @ w + c > 0).astype(int) != y[oob]
        count[oob] += 1
        done += 1
    seen = count > 0
    return float(np.mean(wrong[seen] / count[seen]))


METHODS = {
    "R": lambda rng, X, y: error(fit(X, y), X, y),
    "H=1,p=0.368": lambda rng, X, y: holdout(rng, X, y, 0.368, 1),
    "H=200,p=0.368": lambda rng, X, y: holdout(rng, X, y, 0.368, 200),
    "H=200,p=0.200": lambda rng, X, y: holdout(rng, X, y, 0.2, 200),
    "K=3": lambda rng, X, y: kfold(rng, X, y, 3),
    "K=10": lambda rng, X, y: kfold(rng, X, y, 10),
    "K=n": lambda rng, X, y: kfold(rng, X, y, len(y)),
    "B=200": lambda rng, X, y: bootstrap(rng, X, y, 200),
}


def main():
    n_datasets = int(os.environ.get("N_DATASETS", sys.argv[1] if len(sys.argv) > 1 else 1000))
    rng = np.random.default_rng(int(os.environ.get("SEED", 1989)))
    results = {m: [] for m in METHODS}
    for _ in range(n_datasets):
        y = rng.permutation(np.repeat([0, 1], N_SAMPLES // 2))
        X = rng.standard_normal((N_SAMPLES, N_PREDICTORS))
        for name, method in METHODS.items():
            results[name].append(method(rng, X, y))
    with open("results.tsv", "w") as out:
        out.write("method\tmean-pe\tstd-pe\n")
        for name, errs in results.items():
            out.write(f"{name}\t{np.mean(errs):.3f}\t{np.std(errs):.3f}\n")
    print(open("results.tsv").read(), end="")


if __name__ == "__main__":
    main()
`;

/** Few datasets keep the test run short; the paper used 1000 (N_DATASETS=1000 bash reproduce.sh). */
export const REPRODUCE_SH = `#!/usr/bin/env bash
# Reproduces Figure 1 / the resampling summary of Etherington & Lieske (2019).
set -euo pipefail
cd "$(dirname "$0")"
python3 resampling.py "\${N_DATASETS:-40}"
`;

export const README_MD = `# Resampling error estimates for LDA on uninformative data

\`resampling.py\` draws datasets of 30 samples with 10 N(0,1) predictors and a balanced random label,
fits linear discriminant analysis and estimates its prediction error by resubstitution (R), hold-out
(H=1 and H=200 with p=0.368 or 0.2), K-fold cross-validation (K=3, 10, n) and the out-of-bag bootstrap
(B=200). The true error is 0.5. Run \`bash reproduce.sh\`; it writes \`results.tsv\`.
`;

interface Step {
  id: string;
  name: string;
  args: Record<string, unknown>;
  /** The step counts as done when its result passes this (default: any result). */
  ok?: (result: string) => boolean;
}

/** The agent's plan, its items in these states (the same items at the start and at the end). */
const plan = (...status: string[]) => ({
  items: [
    'Read the method and the experiment of the paper',
    'Implement LDA and the resampling estimators',
    'Write reproduce.sh and run it',
    'Compare with the paper',
  ].map((text, i) => ({ text, status: status[i] })),
});

export const STEPS: Step[] = [
  { id: 'call_plan', name: 'update_plan', args: plan('doing', 'todo', 'todo', 'todo') },
  { id: 'call_read', name: 'read_paper', args: { query: 'bootstrap cross-validation resubstitution' } },
  { id: 'call_code', name: 'write_file', args: { path: 'resampling.py', content: RESAMPLING_PY } },
  { id: 'call_sh', name: 'write_file', args: { path: 'reproduce.sh', content: REPRODUCE_SH } },
  {
    id: 'call_run',
    name: 'bash',
    args: { command: 'bash reproduce.sh' },
    ok: (r) => r.includes('B=200'),
  },
  { id: 'call_readme', name: 'write_file', args: { path: 'README.md', content: README_MD } },
  { id: 'call_plan_done', name: 'update_plan', args: plan('done', 'done', 'done', 'done') },
  {
    id: 'call_end',
    name: 'end_task',
    args: {
      summary:
        'Implemented the resampling experiment (resampling.py) and reproduce.sh. Resubstitution is strongly biased (about 0.23); hold-out, K-fold and bootstrap estimates are close to the true error of 0.5, with the bootstrap the most precise, as in the paper.',
    },
  },
];

/** Results of each tool call id in the conversation so far. */
function results(req: ChatBody): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of req.messages)
    if (m.role === 'tool' && m.tool_call_id) out.set(m.tool_call_id, m.content ?? '');
  return out;
}

/** The agent's next action: the first step without a good result (retried under a new id). */
export function nextAgentStep(req: ChatBody): StepResult {
  const done = results(req);
  for (const s of STEPS) {
    const tries = [...done.keys()].filter((id) => id === s.id || id.startsWith(`${s.id}_retry`));
    if (tries.some((id) => (s.ok ? s.ok(done.get(id)!) : true))) continue;
    const id = tries.length ? `${s.id}_retry${tries.length}` : s.id;
    return tools(call(s.name, s.args, id));
  }
  return reply('The reproduction is complete.');
}

/** Agent requests carry tools; judge and rubric prompts do not. */
export function resamplingScript(): Script {
  return (req: ChatBody) => {
    if (req.tools?.length) return nextAgentStep(req);
    return reply(
      '{"score": 1, "explanation": "resampling.py implements it and reproduce.sh ran it; see results.tsv."}',
    );
  };
}

/** A small rubric in PaperBench's format for this paper (weights and categories as upstream). */
export const RESAMPLING_RUBRIC = {
  id: 'root',
  requirements: 'The resampling experiment of the paper has been reproduced.',
  weight: 1,
  task_category: null,
  finegrained_task_category: null,
  sub_tasks: [
    {
      id: 'code',
      requirements: 'LDA and the resampling estimators (R, hold-out, K-fold, bootstrap) are implemented.',
      weight: 2,
      task_category: 'Code Development',
      finegrained_task_category: 'Method Implementation',
      sub_tasks: [],
    },
    {
      id: 'run',
      requirements: 'reproduce.sh runs the experiment and writes results.tsv.',
      weight: 1,
      task_category: 'Code Execution',
      finegrained_task_category: 'Experimental Setup',
      sub_tasks: [],
    },
    {
      id: 'result',
      requirements: 'Resubstitution is biased low (about 0.23) while the other estimates are near 0.5.',
      weight: 1,
      task_category: 'Result Analysis',
      finegrained_task_category: 'Evaluation, Metrics & Benchmarking',
      sub_tasks: [],
    },
  ],
};

/** Parses results.tsv (method, mean, std). */
export function parseResults(tsv: string): Map<string, { mean: number; std: number }> {
  const out = new Map<string, { mean: number; std: number }>();
  for (const line of tsv.trim().split('\n').slice(1)) {
    const [method, mean, std] = line.split('\t');
    if (method && mean && std) out.set(method, { mean: Number(mean), std: Number(std) });
  }
  return out;
}
