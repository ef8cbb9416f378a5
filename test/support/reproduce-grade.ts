/**
 * reproduce.sh run, then the grade with its log: what the engine does at the end of a session
 * (engine/final-steps.ts), composed here from the same parts for tests without a container.
 */
import {
  type GradeOptions,
  type GradeResult,
  gradeSubmission,
  type ReproductionResult,
  type ReproductionRunner,
  runReproduction,
} from '../../src/paper';

export async function reproduceAndGrade(
  runner: ReproductionRunner,
  opts: Omit<GradeOptions, 'reproduceLog'> & { timeoutMs: number },
): Promise<{ reproduction: ReproductionResult; grade: GradeResult }> {
  const reproduction = await runReproduction(runner, { timeoutMs: opts.timeoutMs });
  const { timeoutMs: _t, ...grade } = opts;
  let reproduceSh = opts.reproduceSh;
  if (reproduceSh === undefined && reproduction.ran)
    reproduceSh = (await runner.run('cat reproduce.sh', 30_000)).output;
  const result = await gradeSubmission({
    ...grade,
    reproduceSh,
    reproduceLog: reproduction.ran ? reproduction.log : undefined,
    decideFromEvidence: true,
    finalRun: reproduction,
  });
  return { reproduction, grade: result };
}
