// The calendar view of a type with a date field: a month, each day listing the records
// whose date falls on it. The month travels in the address (`?month=2026-03`).
import { Alert, Calendar } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type RecordJson } from '../api/client';
import { buildFilter, clause } from '../feel/filter';
import { titleOf } from '../meta/context';
import type { FieldDef, TypeDef } from '../meta/fields';

interface Props {
  def: TypeDef;
  field: FieldDef;
  /** The list's applied filter, narrowing the calendar too. */
  filter?: string;
  month: Dayjs;
  onMonth: (month: Dayjs) => void;
}

export default function CalendarView({ def, field, filter, month, onMonth }: Props) {
  const [rows, setRows] = useState<RecordJson[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    // The weeks the month grid shows, a little beyond the month on both sides.
    const from = month.startOf('month').subtract(7, 'day');
    const to = month.endOf('month').add(14, 'day');
    const range =
      field.kind === 'datetime'
        ? clause(field.name, 'datetime', { op: 'range', from: from.toISOString(), to: to.toISOString() })
        : clause(field.name, 'date', { op: 'range', from: from.format('YYYY-MM-DD'), to: to.format('YYYY-MM-DD') });
    void api
      .GET('/api/v1/records/{type}', {
        params: { path: { type: def.name }, query: { filter: buildFilter([filter, range]), limit: 500 } },
      })
      .then(({ data, error: problem }) => {
        if (!live) return;
        setRows((data?.items as RecordJson[]) ?? []);
        setError(data ? null : (problem?.detail ?? problem?.title ?? 'error'));
      });
    return () => {
      live = false;
    };
  }, [def.name, field, filter, month]);

  const dayOf = (r: RecordJson) => {
    const v = r[field.name];
    if (typeof v !== 'string') return null;
    return field.kind === 'datetime' ? dayjs(v).format('YYYY-MM-DD') : v;
  };

  return (
    <div className="weft-calendar" data-testid="calendar">
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Calendar
        value={month}
        onPanelChange={(d) => onMonth(d)}
        onSelect={(d, info) => info.source !== 'date' && onMonth(d)}
        cellRender={(d, info) => {
          if (info.type !== 'date') return info.originNode;
          const day = d.format('YYYY-MM-DD');
          const items = rows.filter((r) => dayOf(r) === day);
          return (
            <ul className="weft-calendar-items">
              {items.map((r) => (
                <li key={r.id}>
                  <Link to={`/r/${def.name}/${r.id}`}>{titleOf(def, r)}</Link>
                </li>
              ))}
            </ul>
          );
        }}
      />
    </div>
  );
}
