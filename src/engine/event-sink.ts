/** Where a run's events go: the session log first, then the blacklist watch and the front end. */
import type { AgentEventBody } from '../events/events';
import type { Blacklist } from '../paper';
import type { LiveSession } from '../session';
import { BlacklistWatch } from './blacklist-watch';
import type { RunHooks } from './settings';

export interface EventSink {
  emit: (body: AgentEventBody) => void;
  watch: BlacklistWatch;
}

export function eventSink(live: LiveSession, blacklist: Blacklist, hooks: RunHooks): EventSink {
  // The watch records its own findings through emit, so the two are made together.
  let watch!: BlacklistWatch;
  const emit = (body: AgentEventBody) => {
    const event = live.append(body);
    watch.see(event);
    hooks.onEvent?.(event);
  };
  watch = new BlacklistWatch(blacklist, emit);
  return { emit, watch };
}
