// paged_list.js — what the list screens (products, groups, apps, tasks)
// share: a paged table of an API collection whose rows can carry a "manage"
// link and a delete button, the create form that posts a new item, toasts it
// and opens it, and the confirmed delete the detail screens use too.
import { api, enc } from './api.js';
import { h, renderIfChanged, toast, confirmAction } from './dom.js';
import { t } from './i18n.js';
import { alertArea, submitting } from './forms.js';
import { showError } from './errors.js';
import { table, createPager } from './table.js';
import { pageHeader, section } from './layout.js';
import { go } from './router.js';

// Deletes path once the user said yes to question; then toasts done and runs
// then(). A failure is shown in area, which must be the action's own: an
// area that a list or page refresh clears (loaded(), a refresh's
// showError(area, null)) would drop the refusal at the next live update,
// before it was read. The area is cleared when the user tries again.
export async function confirmDelete(question, path, area, then, done = t('common.deleted')) {
  if (!confirmAction(question)) return;
  showError(area, null);
  try {
    await api.del(path);
    toast(done);
    await then();
  } catch (e) {
    showError(area, e);
  }
}

// The list of the collection at path (e.g. '/products'), a page at a time;
// filter() may add to the query (e.g. "productKey=…", or "" for nothing).
// id(item) keys rows and links (#<path>/<id>); columns(href) gives the
// columns, href(item) being the item's link; empty is the i18n key shown
// for no items. With del = {manage?, extra?, confirm, name, attrs?} every
// row ends with the manage link (text key manage), more buttons (extra(item))
// and a delete button (extra button attributes attrs(item)) asking
// t(confirm, {name: name(item)}).
// → {section(title, ...elements before the list), refresh() (resolves with
// the page's items, undefined when it failed), href(item)}
export function pagedList({ path, id, columns, empty, del = null, filter = null }) {
  const href = (item) => `#${path}/${enc(id(item))}`;
  const err = alertArea(); // the list's loading; each refresh clears it
  const delErr = alertArea(); // a refused delete, until the next delete
  const list = h('div', { class: 'list' });
  const pager = createPager(() => refresh());

  const remove = (item) => confirmDelete(t(del.confirm, { name: del.name(item) }), `${path}/${enc(id(item))}`, delErr, () => refresh());

  const actions = () => ({
    label: t('common.actions'),
    class: 'actions',
    cell: (item) => [
      del.manage ? h('a', { class: 'btn btn-small', href: href(item) }, t(del.manage)) : null,
      del.extra ? del.extra(item) : null,
      h('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        ...(del.attrs ? del.attrs(item) : null),
        dataset: { key: `del-${id(item)}` },
        onclick: () => remove(item),
      }, t('common.delete')),
    ],
  });

  async function refresh() {
    try {
      const more = filter ? filter() : '';
      const page = await api.get(`${path}?${more ? `${more}&` : ''}${pager.query()}`);
      showError(err, null);
      pager.update(page.total);
      renderIfChanged(list, page.items, (items) =>
        table(del ? [...columns(href), actions()] : columns(href), items, { empty: t(empty), rowKey: id }),
      );
      return page.items;
    } catch (e) {
      showError(err, e);
      return undefined;
    }
  }

  return { section: (title, ...before) => section(title, ...before, err, delErr, list, pager.el), refresh, href };
}

// The create form: the fields' elements in a row, then extra elements, the
// submit button (text key label, also the form's name) and an alert area.
// On submit body(form) checks the fields and returns the request body (or
// nothing when a field is wrong); it is posted to path, and the new item
// toasted (created(item)), the form reset and open(item) visited (or, with
// no open, then(item) called).
export function createForm({ label, fields, extra = null, body, path, created, open = null, then = null }) {
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t(label));
  const formErr = alertArea();
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': t(label) }, h('div', { class: 'form-row' }, fields), extra, h('div', { class: 'form-actions' }, submit), formErr);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const b = body(form);
    if (!b) return;
    const item = await submitting(submit, formErr, () => api.post(path, b));
    if (item) {
      toast(created(item));
      form.reset();
      if (open) go(open(item));
      else if (then) then(item);
    }
  });
  return form;
}

// A whole list screen: header (text keys in texts: title, intro?, create,
// created, list, none, manage, confirmDelete), the create form and the list
// with delete buttons; name(item) is the item's name in messages. The rest
// of the options as for pagedList and createForm. → {refresh}
export function mountListScreen(main, { path, id, name, texts, fields, extra, body, columns, deleteAttrs }) {
  const form = createForm({
    label: texts.create,
    fields,
    extra,
    body,
    path,
    created: (item) => t(texts.created, { name: name(item) }),
    open: (item) => list.href(item),
  });
  const list = pagedList({
    path,
    id,
    columns,
    empty: texts.none,
    del: { manage: texts.manage, confirm: texts.confirmDelete, name, attrs: deleteAttrs },
  });
  main.append(
    pageHeader(t(texts.title)),
    ...(texts.intro ? [h('p', { class: 'intro' }, t(texts.intro))] : []),
    section(t(texts.create), form),
    list.section(t(texts.list)),
  );
  list.refresh();
  return { refresh: list.refresh };
}
