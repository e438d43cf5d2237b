// Shared UI pieces: dialogs, formatting, page state.
import { h, replace } from './h';
import { ApiError } from './api';

// ---------------------------------------------------------------- dialogs

function trapFocus(dlg: HTMLDialogElement): void {
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const items = Array.from(dlg.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])'))
      .filter((el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });
}

let confirmDlg: HTMLDialogElement;
let confirmTitle: HTMLElement;
let confirmText: HTMLElement;
let confirmOk: HTMLButtonElement;
let nameDlg: HTMLDialogElement;
let nameInput: HTMLInputElement;
let nameError: HTMLElement;
let nameTitle: HTMLElement;

export function installDialogs(): void {
  confirmTitle = h('h2', { id: 'confirm-title' });
  confirmText = h('p', { id: 'confirm-text' });
  confirmOk = h('button', { id: 'confirm-ok', type: 'submit', value: 'ok', class: 'primary' }, 'OK');
  confirmDlg = h('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    h('form', { method: 'dialog' },
      confirmTitle, confirmText,
      h('div', { class: 'dialog-actions' },
        h('button', { id: 'confirm-cancel', type: 'submit', value: 'cancel' }, 'Cancel'),
        confirmOk)));
  trapFocus(confirmDlg);
  nameTitle = h('h2', { id: 'name-dialog-title' }, 'Function name');
  nameInput = h('input', { id: 'name-dialog-input', type: 'text', required: true, pattern: '[A-Za-z0-9_.\\-]{1,64}', maxlength: 64, autocomplete: 'off', 'aria-describedby': 'name-dialog-error' });
  nameError = h('p', { id: 'name-dialog-error', class: 'field-error', role: 'alert' });
  nameDlg = h('dialog', { id: 'name-dialog', 'aria-labelledby': 'name-dialog-title' },
    h('form', { method: 'dialog', novalidate: true },
      nameTitle,
      h('label', { for: 'name-dialog-input' }, 'Name (letters, digits, -, _, .; up to 64)'),
      nameInput, nameError,
      h('div', { class: 'dialog-actions' },
        h('button', { id: 'name-dialog-cancel', type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'),
        h('button', { id: 'name-dialog-ok', type: 'submit', value: 'ok', class: 'primary' }, 'OK'))));
  trapFocus(nameDlg);
  nameDlg.querySelector('form')!.addEventListener('submit', (e) => {
    const sub = (e as SubmitEvent).submitter as HTMLButtonElement | null;
    if (sub?.value === 'ok' && !FN_NAME.test(nameInput.value.trim())) {
      e.preventDefault();
      nameError.textContent = 'Use 1–64 letters, digits, "-", "_" or ".".';
      nameInput.setAttribute('aria-invalid', 'true');
      nameInput.focus();
    }
  });
  document.body.append(confirmDlg, nameDlg);
}

export const FN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function confirmDialog(title: string, text: string, okLabel = 'OK', danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    confirmTitle.textContent = title;
    confirmText.textContent = text;
    confirmOk.textContent = okLabel;
    confirmOk.classList.toggle('danger', danger);
    confirmDlg.returnValue = '';
    const prev = document.activeElement as HTMLElement | null;
    confirmDlg.addEventListener('close', () => { resolve(confirmDlg.returnValue === 'ok'); prev?.focus?.(); }, { once: true });
    confirmDlg.showModal();
    (confirmDlg.querySelector('#confirm-cancel') as HTMLElement).focus();
  });
}

export function nameDialog(title: string, initial: string): Promise<string | null> {
  return new Promise((resolve) => {
    nameTitle.textContent = title;
    nameInput.value = initial;
    nameError.textContent = '';
    nameInput.removeAttribute('aria-invalid');
    nameDlg.returnValue = '';
    const prev = document.activeElement as HTMLElement | null;
    nameDlg.addEventListener('close', () => { resolve(nameDlg.returnValue === 'ok' ? nameInput.value.trim() : null); prev?.focus?.(); }, { once: true });
    nameDlg.showModal();
    nameInput.focus();
    nameInput.select();
  });
}

// ------------------------------------------------------------- formatting

export function fmtDate(iso: string | undefined | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

const rtf = typeof Intl !== 'undefined' && 'RelativeTimeFormat' in Intl ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
export function fmtRelative(iso: string | undefined | null): string {
  if (!iso || !rtf) return '';
  const d = new Date(iso).getTime();
  if (isNaN(d)) return '';
  const sec = Math.round((d - Date.now()) / 1000);
  const abs = Math.abs(sec);
  if (abs < 60) return rtf.format(sec, 'second');
  if (abs < 3600) return rtf.format(Math.round(sec / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(sec / 3600), 'hour');
  return rtf.format(Math.round(sec / 86400), 'day');
}

export function timeEl(iso: string | undefined | null, relative = true): HTMLElement {
  return h('time', { datetime: iso || '', title: iso || '' }, fmtDate(iso), relative && iso ? h('span', { class: 'muted' }, ` (${fmtRelative(iso)})`) : null);
}

export function fmtUs(us: number | null | undefined): string {
  if (us === null || us === undefined) return '–';
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}
export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString();
}
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
export function fmtPct(x: number | null | undefined): string {
  if (x === null || x === undefined || isNaN(x)) return '–';
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

export function outcomeBadge(outcome: string, cls = ''): HTMLElement {
  return h('span', { class: `badge outcome-${outcome} ${cls}`.trim() }, outcome);
}

export function errMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

// ------------------------------------------------------------- page state

export function main(): HTMLElement { return document.querySelector('main')!; }
export function setPage(title: string): void {
  document.title = `${title} · authpipe console`;
  main().removeAttribute('data-ready');
}
export function setReady(): void { main().setAttribute('data-ready', 'true'); }

/** Puts `message` in a status/alert element with the right role. */
export function say(el: HTMLElement, message: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  el.classList.remove('ok', 'error', 'info');
  el.classList.add(kind);
  replace(el, message);
}

export function statusEl(id: string): HTMLElement {
  return h('p', { id, class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function errorBox(e: unknown): HTMLElement {
  return h('p', { class: 'status error', role: 'alert' }, errMessage(e));
}
