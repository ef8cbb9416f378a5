/** `klong reproduce`'s early-end check options (kept apart from args.ts, which every command uses). */
import type { EarlyEndSettings } from '../engine/settings';
import { numberOption } from './args';
import { CliError } from './reproduce';

/** The early-end check's options that were given (a resume changes only those). */
export function earlyEndOptions(v: {
  'min-budget-use'?: string | undefined;
  'early-end-target'?: string | undefined;
  'early-end-checks'?: string | undefined;
}): Partial<EarlyEndSettings> {
  const share = (name: string, text: string | undefined) => {
    const n = numberOption(name, text, { min: 0 });
    if (n !== undefined && n > 1)
      throw new CliError(`--${name} must be a share between 0 and 1 (e.g. 0.5 for half), got "${text}".`);
    return n;
  };
  const minBudgetUse = share('min-budget-use', v['min-budget-use']);
  const target = share('early-end-target', v['early-end-target']);
  const checks = numberOption('early-end-checks', v['early-end-checks'], { integer: true, min: 0 });
  return {
    ...(minBudgetUse !== undefined ? { minBudgetUse } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(checks !== undefined ? { checks } : {}),
  };
}
