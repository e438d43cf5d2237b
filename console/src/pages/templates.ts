import { h, replace } from '../h';
import { api, enc, listOf, type TemplateSummary, type Template } from '../api';
import { setPage, setReady, statusEl, say, errMessage, nameDialog } from '../ui';
import { handoff, type PageCtx } from '../ctx';

export async function templatesPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  setPage('Templates');
  const status = statusEl('templates-status');
  const grid = h('div', { class: 'template-grid', id: 'template-list' });
  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, 'New from template'),
      h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/new' }, 'Blank function'))),
    h('p', { class: 'muted' }, 'Start from a ready-made function. You can change everything before saving.'),
    status, grid);
  const data = await api<unknown>('GET', '/v1/templates', { signal: ctx.signal });
  const templates = listOf<TemplateSummary>(data, 'templates');
  if (!ctx.alive()) return;
  const use = async (tpl: TemplateSummary, btn: HTMLButtonElement) => {
    const name = await nameDialog(`Name the new function (${tpl.title})`, tpl.name);
    if (!name) { btn.focus(); return; }
    say(status, `Loading ${tpl.title}…`, 'info');
    try {
      const full = await api<Template>('GET', `/v1/templates/${enc(tpl.name)}`);
      handoff.template = { ...full, env: full.env || [], fixtures: full.fixtures || [] };
      handoff.name = name;
      location.hash = '#/new';
    } catch (e) {
      say(status, `Could not load the template: ${errMessage(e)}`, 'error');
    }
  };
  replace(grid, templates.length ? templates.map((tpl) => {
    const titleId = `template-${tpl.name}-title`;
    const btn = h('button', { type: 'button', class: 'use-template primary', 'aria-describedby': titleId }, 'Use this template');
    btn.addEventListener('click', () => use(tpl, btn));
    return h('article', { class: 'template-card card', dataset: { template: tpl.name }, 'aria-labelledby': titleId },
      h('h2', { id: titleId }, tpl.title),
      h('p', { class: 'tags' },
        h('span', { class: 'badge use-case' }, tpl.use_case),
        tpl.async ? h('span', { class: 'badge async-badge' }, 'async') : null,
        (tpl.triggers || []).map((tr) => h('span', { class: 'badge trigger-badge' }, tr))),
      h('p', { class: 'description' }, tpl.description),
      h('div', { class: 'card-actions' }, btn));
  }) : h('p', { class: 'muted' }, 'No templates are available.'));
  setReady();
}
