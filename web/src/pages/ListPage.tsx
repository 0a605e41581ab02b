import { CloseOutlined, DownloadOutlined, FilterOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, App, Button, DatePicker, Dropdown, Grid, Input, InputNumber, Segmented, Select, Space, Table, Typography, type TableProps } from 'antd';
import type { SorterResult, SortOrder } from 'antd/es/table/interface';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, type RecordJson } from '../api/client';
import { buildFilter, clause, type FilterValue } from '../feel/filter';
import { FieldDisplay } from '../fields/dispatch';
import { formatDateTime, formatInteger } from '../format';
import { titleOf, useTypes } from '../meta/context';
import { displayKind, labelOf, type TypeDef } from '../meta/fields';
import dayjs from 'dayjs';
import BulkActions from '../list/BulkActions';
import SavedViews from '../list/SavedViews';
import RecordCards from '../list/RecordCards';
import { cardFields, sortOptions } from '../list/cards';
import { filterName, filterSpecs, INLINE_FILTERS, moreFilters, shownFilters, type FilterSpec } from '../list/filters';
import { DEFAULT_SORT, EXPORT_LIMIT, exportUrl, fileNameOf, isMonth, sameSetup, setupOf, specOf, viewParams, type ListSetup, type PageView, type SavedView } from '../list/setup';
import CalendarView from './CalendarView';
import Kanban from './Kanban';

const PAGE = 50;
/** From this many loaded rows on, the table renders only the rows on screen (antd's virtual
 * table): "load more" can grow a list to thousands of rows. Below it the plain table keeps
 * the first render of a page cheap (a virtual table measures its viewport first). */
export const VIRTUAL_FROM = 200;
/** A column's width in the virtual table, which needs fixed widths to lay rows out. */
const VIRTUAL_COLUMN = 160;
/** Kinds too large for a table cell. */
const WIDE = new Set(['long_text', 'rich_text', 'lines', 'json']);
const NUMERIC = new Set(['integer', 'decimal', 'money', 'percent']);

declare global {
  interface Window {
    /** Timings the browser tests read: ms from data arrival to the rows on screen. */
    __weftMetrics?: { listCommitMs?: number; listRenderMs?: number; listRows?: number };
  }
}

export default function ListPage() {
  const { type = '' } = useParams();
  const { byName, types } = useTypes();
  const def = byName(type);
  if (!def) return types.length ? <Alert type="warning" message={type} /> : null;
  return <List key={type} def={def} />;
}

function List({ def }: { def: TypeDef }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const [rows, setRows] = useState<RecordJson[]>([]);
  const [count, setCount] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<string>(DEFAULT_SORT);
  const [filters, setFilters] = useState<Record<string, FilterValue | undefined>>({});
  const [applied, setApplied] = useState<string | undefined>(undefined);
  const dataAt = useRef<number | null>(null);
  // On a phone the filters fold away behind a button.
  const phone = Grid.useBreakpoint().md === false;
  const [filtersOpen, setFiltersOpen] = useState(false);
  // `?view=board`: the kanban board by state (types with a lifecycle).
  const [params, setParams] = useSearchParams();
  const board = def.states.length > 0 && params.get('view') === 'board';
  // `?view=calendar&date=due&month=2026-03`: by a date field (the first one unless the
  // address names another), for types that have one.
  const dateFields = def.fields.filter((f) => f.kind === 'date' || f.kind === 'datetime');
  const dateParam = dateFields.find((f) => f.name === params.get('date'))?.name;
  const dateField = dateFields.find((f) => f.name === dateParam) ?? dateFields[0];
  const calendar = !!dateField && params.get('view') === 'calendar';
  const monthParam = params.get('month');
  const month = isMonth(monthParam) ? dayjs(`${monthParam}-01`) : dayjs().startOf('month');
  const view: PageView = board ? 'board' : calendar ? 'calendar' : 'table';

  const listable = def.fields.filter((f) => !WIDE.has(f.kind));
  const defaultColumns = useMemo(() => listable.slice(0, 5).map((f) => f.name), [def]); // eslint-disable-line react-hooks/exhaustive-deps
  const [visible, setVisible] = useState<string[]>(defaultColumns);
  const { message } = App.useApp();
  // Saved views: the one chosen, and whether the page has moved away from it since.
  const [chosen, setChosen] = useState<SavedView | null>(null);
  const setup: ListSetup = {
    view,
    columns: visible,
    filters,
    applied,
    sort,
    ...(calendar ? { calendar: { field: dateParam, month: isMonth(monthParam) ? monthParam : undefined } } : {}),
  };
  const chosenSetup = useMemo(
    () => (chosen ? setupOf(chosen.spec, def, listable.map((f) => f.name), defaultColumns) : null),
    [chosen, def], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const changed = !!chosenSetup && !sameSetup(setup, chosenSetup);
  const choose = (saved: SavedView | null) => {
    setChosen(saved);
    const next = saved ? setupOf(saved.spec, def, listable.map((f) => f.name), defaultColumns) : null;
    setVisible(next?.columns ?? defaultColumns);
    setFilters(next?.filters ?? {});
    setApplied(next?.applied);
    setSort(next?.sort ?? DEFAULT_SORT);
    setParams(viewParams(next ?? { view: 'table' }), { replace: true });
  };
  // Bulk actions: the selected rows of the table.
  const [selectedIds, setSelectedIds] = useState<string[]>([]);
  const selected = useMemo(() => rows.filter((r) => selectedIds.includes(r.id)), [rows, selectedIds]);
  const canBulk = def.permissions.delete || def.transitions.some((x) => x.allowed);
  const [exporting, setExporting] = useState(false);

  // Every filter the type has; the first few show, any other is added from a picker.
  const specs: FilterSpec[] = useMemo(() => filterSpecs(def), [def]);
  const [added, setAdded] = useState<string[]>([]);
  const shown = shownFilters(specs, added, filters);
  const more = moreFilters(specs, shown, lang, t('list.state'));

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      const { data, error: problem } = await api.GET('/api/v1/records/{type}', {
        params: { path: { type: def.name }, query: { filter: applied, sort, limit: PAGE, cursor: after ?? undefined, count: after === null } },
      });
      if (data) {
        dataAt.current = performance.now();
        setRows((prev) => (after ? [...prev, ...(data.items as RecordJson[])] : (data.items as RecordJson[])));
        setCursor(data.next_cursor ?? null);
        if (after === null) {
          setCount(data.count ?? null);
          // A new query: keep selected only the rows it still shows.
          const ids = new Set((data.items as RecordJson[]).map((r) => r.id));
          setSelectedIds((sel) => sel.filter((id) => ids.has(id)));
        }
        setError(null);
      } else {
        setError(t('list.badFilter', { detail: problem?.detail ?? problem?.title ?? '' }));
      }
      setLoading(false);
    },
    [def.name, applied, sort, t],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // First render after the data arrived: measured for BENCHMARKS.md by the browser tests.
  // `listCommitMs`: React has put the rows in the DOM; `listRenderMs`: the next frame,
  // after style, layout and paint.
  useLayoutEffect(() => {
    if (dataAt.current === null) return;
    const started = dataAt.current;
    dataAt.current = null;
    const committed = performance.now() - started;
    requestAnimationFrame(() => {
      setTimeout(() => {
        window.__weftMetrics = { ...window.__weftMetrics, listCommitMs: committed, listRenderMs: performance.now() - started, listRows: rows.length };
      }, 0);
    });
  }, [rows]);

  const stateLabel = (name: string) => labelOf(def.states.find((s) => s.name === name)?.label, lang) || name;
  const sortOrder = (key: string): SortOrder => (sort === key ? 'ascend' : sort === `-${key}` ? 'descend' : null);

  // Row selection for bulk actions: plain checkboxes (antd's row selection costs a styled
  // checkbox component per row, which doubled the first render of a 50-row page).
  const selectedSet = useMemo(() => new Set(selectedIds), [selectedIds]);
  const allShown = rows.length > 0 && rows.every((r) => selectedSet.has(r.id));
  const someShown = rows.some((r) => selectedSet.has(r.id));
  const selectColumn = useMemo(
    () =>
      canBulk
        ? [
            {
              key: '__select',
              width: 40,
              title: (
                <input
                  type="checkbox"
                  className="weft-check"
                  aria-label={t('bulk.selectAll')}
                  checked={allShown}
                  ref={(el) => {
                    if (el) el.indeterminate = someShown && !allShown;
                  }}
                  onChange={(e) => setSelectedIds(e.target.checked ? rows.map((r) => r.id) : [])}
                />
              ),
              render: (_: unknown, r: RecordJson) => (
                <input
                  type="checkbox"
                  className="weft-check"
                  aria-label={t('bulk.selectRow', { title: titleOf(def, r) })}
                  checked={selectedSet.has(r.id)}
                  onChange={(e) => setSelectedIds((sel) => (e.target.checked ? [...sel, r.id] : sel.filter((id) => id !== r.id)))}
                />
              ),
            },
          ]
        : [],
    [canBulk, allShown, someShown, rows, selectedSet, def, t],
  );

  // Memoised: the table re-renders its rows only when the columns or the rows change.
  const columns: TableProps<RecordJson>['columns'] = useMemo(() => [
    ...selectColumn,
    {
      key: '__title',
      title: def.titleField ? labelOf(def.fields.find((f) => f.name === def.titleField)?.label, lang) : t('list.number'),
      render: (_, r) => <Link to={`/r/${def.name}/${r.id}`}>{titleOf(def, r)}</Link>,
      width: 180,
    },
    ...listable
      .filter((f) => visible.includes(f.name) && f.name !== def.titleField)
      .map((f) => ({
        key: f.name,
        dataIndex: f.name,
        title: labelOf(f.label, lang),
        sorter: f.sortable,
        sortOrder: f.sortable ? sortOrder(f.name) : undefined,
        align: NUMERIC.has(displayKind(f)) ? ('right' as const) : undefined,
        render: (v: unknown, r: RecordJson) => <FieldDisplay field={f} value={v} hidden={!(f.name in r)} />,
      })),
    ...(def.states.length
      ? [
          {
            key: 'state',
            dataIndex: 'state',
            title: t('list.state'),
            sorter: true,
            sortOrder: sortOrder('state'),
            // A plain span styled as a tag: antd's Tag costs a style hook per row.
            render: (v: string) => (v ? <span className="weft-state">{stateLabel(v)}</span> : null),
          },
        ]
      : []),
    {
      key: 'updated_at',
      dataIndex: 'updated_at',
      title: t('list.updated'),
      sorter: true,
      sortOrder: sortOrder('updated_at'),
      render: (v: string) => formatDateTime(lang, v),
      responsive: ['md'],
    },
  ], [def, lang, t, visible, sort, selectColumn]);

  const virtual = view === 'table' && rows.length >= VIRTUAL_FROM;
  const virtualWidth = (columns ?? []).reduce((sum, c) => sum + (typeof c.width === 'number' ? c.width : VIRTUAL_COLUMN), 0);

  const onTable: TableProps<RecordJson>['onChange'] = (_p, _f, sorter) => {
    const s = (Array.isArray(sorter) ? sorter[0] : sorter) as SorterResult<RecordJson>;
    const key = String(s?.columnKey ?? '');
    if (!s?.order || !key) setSort(DEFAULT_SORT);
    else setSort(s.order === 'descend' ? `-${key}` : key);
  };

  const apply = () =>
    setApplied(
      buildFilter(
        specs.map((spec) => {
          const name = filterName(spec);
          const value = filters[name];
          return value ? clause(name, spec.kind, value) : null;
        }),
      ),
    );

  // The export of what the list shows, fetched (not linked) so that a refusal is shown
  // here rather than as a page of JSON.
  const download = async (format: 'csv' | 'xlsx') => {
    const limit = EXPORT_LIMIT[format];
    if (count !== null && count > limit) {
      void message.warning(t('list.exportTooMany', { count: formatInteger(lang, count), format: format.toUpperCase(), limit: formatInteger(lang, limit) }));
      return;
    }
    setExporting(true);
    try {
      const response = await fetch(exportUrl(def, setup, format, lang), { credentials: 'same-origin' });
      if (!response.ok) {
        const problem = (await response.json().catch(() => null)) as { detail?: string; title?: string } | null;
        void message.error(t('list.exportFailed', { detail: problem?.detail ?? problem?.title ?? response.statusText }));
        return;
      }
      const file = fileNameOf(response.headers.get('content-disposition'), `${def.name}.${format}`);
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = file;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      void message.success(t('list.exportDone', { file }));
    } catch (e) {
      void message.error(t('list.exportFailed', { detail: String(e) }));
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="weft-page weft-list">
      <div className="weft-toolbar">
        <Typography.Title level={2}>{labelOf(def.pluralLabel, lang)}</Typography.Title>
        {count !== null ? <span data-testid="list-count">{t('list.count', { count, formatted: formatInteger(lang, count) })}</span> : null}
        {def.states.length || dateField ? (
          <Segmented
            aria-label={t('kanban.views')}
            value={view}
            onChange={(v) => setParams(v === 'table' ? {} : { view: String(v) }, { replace: true })}
            options={[
              // A phone shows the plain view as cards: a list rather than a table.
              { value: 'table', label: phone ? t('kanban.list') : t('kanban.table') },
              ...(def.states.length ? [{ value: 'board', label: <span data-view="board">{t('kanban.board')}</span> }] : []),
              ...(dateField ? [{ value: 'calendar', label: <span data-view="calendar">{t('kanban.calendar')}</span> }] : []),
            ]}
          />
        ) : null}
        {phone ? (
          <Button icon={<FilterOutlined />} aria-expanded={filtersOpen} onClick={() => setFiltersOpen((o) => !o)}>
            {t('list.filter')}
          </Button>
        ) : null}
        <SavedViews def={def} current={specOf(setup)} chosen={chosen} changed={changed} onChoose={choose} />
        {def.permissions.export ? (
          // What the list shows (columns, filter, order), as CSV or XLSX; the server checks `export`.
          <div data-testid="export">
            <Dropdown
              trigger={['click']}
              menu={{
                items: [
                  { key: 'csv', label: <span data-format="csv">{t('list.exportCsv')}</span> },
                  { key: 'xlsx', label: <span data-format="xlsx">{t('list.exportXlsx')}</span> },
                ],
                onClick: ({ key }) => void download(key as 'csv' | 'xlsx'),
              }}
            >
              <Button icon={<DownloadOutlined />} loading={exporting}>
                {t('list.export')}
              </Button>
            </Dropdown>
          </div>
        ) : null}
        {def.permissions.create ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate(`/r/${def.name}/new`)}>
            {t('list.new')}
          </Button>
        ) : null}
      </div>
      <form
        hidden={phone && !filtersOpen}
        className="weft-filters"
        aria-label={t('list.filter')}
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        {shown.map((spec) => (
          <FilterControl
            key={filterName(spec)}
            spec={spec}
            def={def}
            value={filters[filterName(spec)]}
            onChange={(v) => setFilters((f) => ({ ...f, [filterName(spec)]: v }))}
            // An added filter can go again; the first few always stay.
            onRemove={
              specs.indexOf(spec) >= INLINE_FILTERS
                ? () => {
                    setAdded((a) => a.filter((n) => n !== filterName(spec)));
                    setFilters((f) => ({ ...f, [filterName(spec)]: undefined }));
                  }
                : undefined
            }
            autoFocus={added[added.length - 1] === filterName(spec)}
          />
        ))}
        {more.length ? (
          <label className="weft-filter weft-more-filters">
            <span>{t('list.moreFilters')}</span>
            <Select
              showSearch
              optionFilterProp="label"
              aria-label={t('list.moreFilters')}
              data-testid="more-filters"
              placeholder={t('list.addFilter')}
              value={null}
              options={more}
              virtual={false}
              listHeight={320}
              onChange={(name: string) => setAdded((a) => [...a, name])}
            />
          </label>
        ) : null}
        {phone && view === 'table' ? (
          // The table's headers sort on wider screens; a phone's cards have none.
          <label className="weft-filter weft-list-sort">
            <span>{t('list.sort')}</span>
            <Select aria-label={t('list.sort')} data-testid="list-sort" virtual={false} listHeight={320} value={sort} onChange={setSort} options={sortOptions(def, lang, t)} />
          </label>
        ) : null}
        <Space wrap>
          <Button htmlType="submit" type="primary" ghost>
            {t('list.apply')}
          </Button>
          <Button
            onClick={() => {
              // Back to the plain list: no filter, and no saved view chosen.
              setFilters({});
              setAdded([]);
              setApplied(undefined);
              setChosen(null);
            }}
          >
            {t('list.reset')}
          </Button>
          <Select
            mode="multiple"
            aria-label={t('list.columns')}
            placeholder={t('list.columns')}
            maxTagCount={0}
            maxTagPlaceholder={() => t('list.columns')}
            style={{ minWidth: 120 }}
            value={visible}
            onChange={setVisible}
            options={listable.map((f) => ({ value: f.name, label: labelOf(f.label, lang) }))}
          />
        </Space>
      </form>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      {/* Mounted whatever the view and the screen width, so that its dialogs (the inputs
          asked, the report of a run) survive a change of breakpoint: a resize across it, or
          the 1 x 1 px viewport chromium reports for a moment while it takes a full-page
          screenshot, once unmounted it and lost an open report. Selection is the table's. */}
      {canBulk ? (
        <BulkActions
          def={def}
          selected={view === 'table' ? selected : []}
          onClear={() => setSelectedIds([])}
          onDone={(changedRows, deleted, failed) => {
            // Refused records stay selected for another try; the rest leave the selection.
            setSelectedIds(failed);
            const byId = new Map(changedRows.map((r) => [r.id, r]));
            setRows((prev) => prev.filter((r) => !deleted.includes(r.id)).map((r) => byId.get(r.id) ?? r));
            if (deleted.length) setCount((c) => (c === null ? c : c - deleted.length));
          }}
        />
      ) : null}
      {calendar && dateField ? (
        <CalendarView
          def={def}
          field={dateField}
          fields={dateFields}
          filter={applied}
          month={month}
          onMonth={(m) => setParams(viewParams({ view: 'calendar', calendar: { field: dateParam, month: m.format('YYYY-MM') } }), { replace: true })}
          onField={(name) =>
            setParams(viewParams({ view: 'calendar', calendar: { field: name, month: isMonth(monthParam) ? monthParam : undefined } }), { replace: true })
          }
        />
      ) : board ? (
        <Kanban
          def={def}
          rows={rows}
          onChanged={(record) => setRows((prev) => prev.map((r) => (r.id === record.id ? record : r)))}
          onStale={() => void load(null)}
        />
      ) : phone ? (
        // A phone: cards, nothing sideways; no selection (bulk actions are for wider screens).
        <RecordCards def={def} rows={rows} fields={cardFields(def, visible)} loading={loading} />
      ) : (
        <>
      {/* Scrolls sideways in a plain box rather than antd's `scroll`, which measures every
          column after each render. */}
      <div className="weft-table-scroll" data-virtual={virtual || undefined}>
      <Table<RecordJson>
        rowKey="id"
        virtual={virtual}
        scroll={virtual ? { x: virtualWidth, y: Math.max(360, window.innerHeight - 280) } : undefined}
        size="middle"
        columns={columns}
        dataSource={rows}
        loading={loading}
        pagination={false}
        onChange={onTable}
        locale={{ emptyText: t('list.empty') }}
        onRow={(r) => ({ onDoubleClick: () => navigate(`/r/${def.name}/${r.id}`) })}
      />
      </div>
        </>
      )}
      <div className="weft-list-footer">
        {cursor && !calendar ? (
          <Button onClick={() => void load(cursor)} loading={loading}>
            {t('list.more')}
          </Button>
        ) : null}
      </div>
    </div>
  );
}

function FilterControl({
  spec,
  def,
  value,
  onChange,
  onRemove,
  autoFocus,
}: {
  spec: FilterSpec;
  def: TypeDef;
  value?: FilterValue;
  onChange: (v: FilterValue | undefined) => void;
  onRemove?: () => void;
  autoFocus?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const label = spec.field === 'state' ? t('list.state') : labelOf(spec.field.label, lang);
  const range = value?.op === 'range' ? value : { op: 'range' as const, from: null, to: null };
  let control;
  switch (spec.kind) {
    case 'text':
      control = (
        <Input
          allowClear
          autoFocus={autoFocus}
          aria-label={label}
          placeholder={t('list.contains')}
          value={value?.op === 'contains' ? value.text : ''}
          onChange={(e) => onChange(e.target.value ? { op: 'contains', text: e.target.value } : undefined)}
        />
      );
      break;
    case 'number':
      control = (
        <Space.Compact>
          <InputNumber<string> stringMode autoFocus={autoFocus} aria-label={`${label} ${t('list.from')}`} placeholder={t('list.from')} value={(range.from as string) ?? null} onChange={(v) => onChange({ ...range, from: v })} />
          <InputNumber<string> stringMode aria-label={`${label} ${t('list.to')}`} placeholder={t('list.to')} value={(range.to as string) ?? null} onChange={(v) => onChange({ ...range, to: v })} />
        </Space.Compact>
      );
      break;
    case 'date':
    case 'datetime':
      control = (
        <DatePicker.RangePicker
          aria-label={label}
          // Controlled, so a saved view's dates show in the control.
          value={range.from || range.to ? [range.from ? dayjs(String(range.from)) : null, range.to ? dayjs(String(range.to)) : null] : null}
          onChange={(d) =>
            onChange(
              d
                ? spec.kind === 'date'
                  ? { op: 'range', from: d[0]?.format('YYYY-MM-DD'), to: d[1]?.format('YYYY-MM-DD') }
                  : { op: 'range', from: d[0]?.startOf('day').toISOString(), to: d[1]?.endOf('day').toISOString() }
                : undefined,
            )
          }
        />
      );
      break;
    case 'options': {
      const options =
        spec.field === 'state'
          ? def.states.map((s) => ({ value: s.name, label: labelOf(s.label, lang) }))
          : (spec.field.options ?? []).map((o) => ({ value: o.value, label: labelOf(o.label, lang) }));
      control = (
        <Select
          mode="multiple"
          allowClear
          autoFocus={autoFocus}
          aria-label={label}
          style={{ minWidth: 160 }}
          options={options}
          value={value?.op === 'in' ? value.values : []}
          onChange={(values: string[]) => onChange(values.length ? { op: 'in', values } : undefined)}
        />
      );
      break;
    }
    case 'boolean':
      control = (
        <Select
          allowClear
          autoFocus={autoFocus}
          aria-label={label}
          style={{ minWidth: 100 }}
          value={value?.op === 'is' ? String(value.value) : undefined}
          options={[
            { value: 'true', label: t('list.yes') },
            { value: 'false', label: t('list.no') },
          ]}
          onChange={(v?: string) => onChange(v === undefined ? undefined : { op: 'is', value: v === 'true' })}
        />
      );
      break;
  }
  return (
    <label className="weft-filter" data-filter={filterName(spec)}>
      <span>{label}</span>
      {control}
      {/* After the control: a label's click goes to its first control, which must not be this. */}
      {onRemove ? (
        <Button
          type="text"
          size="small"
          className="weft-filter-remove"
          icon={<CloseOutlined />}
          onClick={(e) => {
            e.preventDefault();
            onRemove();
          }}
          aria-label={t('list.removeFilter', { field: label })}
        />
      ) : null}
    </label>
  );
}
