// typedoc names each entry point's module by its source path (`src`, `adapters/sqlite`); readers
// import it as `hookrelay`, `hookrelay/sqlite`. This renames the modules to their import specifiers.
import { Converter } from 'typedoc';

/** Source path of an entry point (relative, without /index) → the specifier users import. */
export function importSpecifier(modulePath) {
  const path = modulePath.replace(/\/index$/, '');
  if (path === 'src' || path === 'index') return 'hookrelay';
  return `hookrelay/${path.replace(/^(?:src|adapters)\//, '')}`;
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.children ?? []) mod.name = importSpecifier(mod.name);
  });
}
