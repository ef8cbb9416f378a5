export { PaperError } from './errors';
export { loadPaper, paperFromMarkdown, paperFromPdf } from './paper';
export { createPaperReader, formatIndex, type PaperReader } from './reader';
export { findSection, PaperIndex, readSection, type SearchHit, searchPaper } from './search';
export { buildSections } from './sections';
export { type FetchOptions, fetchSource, type PaperSource, resolveSource } from './source';
export type { Paper, RubricNode, Section, TaskCategory } from './types';
