/** The token estimator lives with the model client (it estimates usage when an endpoint reports none). */
export { estimateCounter, estimateTokens, type TokenCounter } from '../llm/tokens';
