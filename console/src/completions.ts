// Completions from types/authpipe.d.ts (parsed at build time by build.mjs).
import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete';
import { syntaxTree } from '@codemirror/language';
import data, { type DtsItem } from 'virtual:authpipe-completions';

const DONT = new Set(['String', 'TemplateString', 'LineComment', 'BlockComment', 'VariableDefinition', 'PropertyDefinition']);

function toCompletion(x: DtsItem, boost = 0): Completion {
  return { label: x.label, type: x.type, detail: x.detail && x.detail.length > 60 ? x.detail.slice(0, 57) + '…' : x.detail, info: x.info, boost };
}

function members(type: string): DtsItem[] {
  const v = data.types[type];
  return Array.isArray(v) ? v : [];
}

function resolveChain(chain: string[]): string | undefined {
  let type: string | undefined = data.roots[chain[0]];
  for (let i = 1; type && i < chain.length; i++) {
    const m: DtsItem | undefined = members(type).find((x) => x.label === chain[i]);
    type = m?.ref;
  }
  return type;
}

/** `getEnvKeys` gives the tenant's env keys for `env.` completions. */
export function authpipeCompletions(getEnvKeys: () => string[]) {
  const globals = data.globals.map((g) => toCompletion(g, g.label === 'user' || g.label === 'context' || g.label === 'callback' || g.label === 'env' || g.label === 'log' ? 2 : 0));
  return (cx: CompletionContext): CompletionResult | null => {
    const node = syntaxTree(cx.state).resolveInner(cx.pos, -1);
    if (DONT.has(node.name)) return null;
    const line = cx.state.doc.lineAt(cx.pos);
    const before = line.text.slice(0, cx.pos - line.from);
    const m = /([A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)*)\??\.([\w$]*)$/.exec(before);
    if (m) {
      const chain = m[1].split(/\??\./);
      const from = cx.pos - m[2].length;
      if (chain.length === 1 && chain[0] === 'env') {
        const keys = getEnvKeys();
        if (!keys.length) return null;
        return { from, options: keys.map((k) => ({ label: k, type: 'constant', detail: 'env' })), validFor: /^[\w$]*$/ };
      }
      const type = resolveChain(chain);
      if (!type) return null;
      const opts = members(type).map((x) => toCompletion(x));
      if (!opts.length) return null;
      return { from, options: opts, validFor: /^[\w$]*$/ };
    }
    const word = cx.matchBefore(/[A-Za-z_$][\w$]*$/);
    if (!word && !cx.explicit) return null;
    // Not after a dot (handled above), so offer globals.
    return { from: word ? word.from : cx.pos, options: globals, validFor: /^[\w$]*$/ };
  };
}
