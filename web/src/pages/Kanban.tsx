// The kanban board of a type with a lifecycle: a column per state, a card per record;
// dropping a card on another column runs the transition between the two states (its
// dialog first when it asks for inputs). Guards are the server's: a refusal is shown.
// Without a mouse: each card's "Move to…" menu lists the transitions the user holds from
// the card's state (the same run, dialog and refusals), and focus follows the card.
import { SwapOutlined } from '@ant-design/icons';
import { App, Button, Popover } from 'antd';
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, versionOf, type RecordJson } from '../api/client';
import { FieldDisplay } from '../fields/dispatch';
import { titleOf } from '../meta/context';
import { labelOf, type TransitionDef, type TypeDef } from '../meta/fields';
import { TransitionDialog } from './transition';

interface Props {
  def: TypeDef;
  rows: RecordJson[];
  onChanged: (record: RecordJson) => void;
  /** Someone else changed a record meanwhile: reload the board. */
  onStale: () => void;
}

export default function Kanban({ def, rows, onChanged, onStale }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const [over, setOver] = useState<string | null>(null);
  const [pending, setPending] = useState<{ record: RecordJson; transition: TransitionDef } | null>(null);
  // The card moved from the keyboard: its menu button gets the focus back in its new column.
  const [moved, setMoved] = useState<string | null>(null);
  const board = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!moved) return;
    const button = board.current?.querySelector<HTMLElement>(`[data-record="${moved}"] .weft-move`);
    if (button) {
      button.focus();
      setMoved(null);
    }
  });
  // Up to two fields under the title: the first ones that are not the title.
  const shown = def.fields.filter((f) => f.name !== def.titleField && !['lines', 'json', 'rich_text', 'long_text'].includes(f.kind)).slice(0, 2);

  const run = async (record: RecordJson, transition: TransitionDef) => {
    if (transition.inputs.length) return setPending({ record, transition });
    const { data, error, response } = await api.POST('/api/v1/records/{type}/{id}/transitions/{name}', {
      params: { path: { type: def.name, id: record.id, name: transition.name }, header: { 'If-Match': `"${record.version}"` } },
      body: {},
    });
    if (data) {
      const next = data as RecordJson;
      onChanged({ ...next, version: versionOf(response.headers.get('etag')) ?? next.version });
      setMoved(record.id);
      void message.success(t('record.transitionDone', { action: labelOf(transition.label, lang) }));
    } else if (error?.status === 412) {
      void message.warning(t('kanban.stale'));
      onStale();
    } else {
      void message.error(t('record.transitionRefused', { detail: error?.detail ?? error?.title ?? '' }));
    }
  };

  const drop = (state: string) => (e: DragEvent) => {
    e.preventDefault();
    setOver(null);
    const record = rows.find((r) => r.id === e.dataTransfer.getData('text/x-weft-record'));
    if (!record || record.state === state) return;
    const transition = def.transitions.find((x) => x.allowed && x.to === state && x.from.includes(String(record.state)));
    if (!transition) {
      void message.warning(t('kanban.noTransition', { from: stateLabel(String(record.state)), to: stateLabel(state) }));
      return;
    }
    void run(record, transition);
  };

  const stateLabel = (name: string) => labelOf(def.states.find((s) => s.name === name)?.label, lang) || name;
  const movesOf = (r: RecordJson) => def.transitions.filter((x) => x.allowed && x.from.includes(String(r.state)) && x.to !== r.state);

  return (
    <div className="weft-kanban" data-testid="kanban" ref={board}>
      {def.states.map((s) => {
        const cards = rows.filter((r) => r.state === s.name);
        return (
          <section
            key={s.name}
            className={`weft-kanban-col${over === s.name ? ' weft-kanban-over' : ''}`}
            data-state={s.name}
            aria-label={labelOf(s.label, lang)}
            onDragOver={(e) => {
              e.preventDefault();
              setOver(s.name);
            }}
            onDragLeave={() => setOver((o) => (o === s.name ? null : o))}
            onDrop={drop(s.name)}
          >
            <header>
              {labelOf(s.label, lang)} <span className="weft-kanban-count">{cards.length}</span>
            </header>
            {cards.map((r) => (
              <article
                key={r.id}
                className="weft-kanban-card"
                draggable
                data-record={r.id}
                onDragStart={(e) => {
                  e.dataTransfer.setData('text/x-weft-record', r.id);
                  e.dataTransfer.effectAllowed = 'move';
                }}
              >
                <div className="weft-kanban-card-head">
                  <Link to={`/r/${def.name}/${r.id}`}>{titleOf(def, r)}</Link>
                  <MoveMenu
                    moves={movesOf(r)}
                    title={titleOf(def, r)}
                    label={(x) => t('kanban.moveOption', { action: labelOf(x.label, lang), state: stateLabel(x.to) })}
                    onMove={(x) => void run(r, x)}
                  />
                </div>
                {shown.map((f) => (
                  <div key={f.name} className="weft-kanban-field">
                    <FieldDisplay field={f} value={r[f.name]} hidden={!(f.name in r)} />
                  </div>
                ))}
              </article>
            ))}
          </section>
        );
      })}
      {pending ? (
        <TransitionDialog
          def={def}
          id={pending.record.id}
          version={pending.record.version}
          transition={pending.transition}
          onClose={() => setPending(null)}
          onDone={(record, version) => {
            setPending(null);
            onChanged({ ...record, version });
            setMoved(record.id);
            void message.success(t('record.transitionDone', { action: labelOf(pending.transition.label, lang) }));
          }}
          onConflict={() => {
            setPending(null);
            void message.warning(t('kanban.stale'));
            onStale();
          }}
        />
      ) : null}
    </div>
  );
}

/** A card's keyboard way to move: the transitions the user holds from its state, each
 * naming the column it leads to. A popover of plain buttons rather than a dropdown menu, so
 * that opening it puts the focus on the first choice, arrows move between choices, Enter
 * picks one and Escape returns to the card. */
function MoveMenu({
  moves,
  title,
  label,
  onMove,
}: {
  moves: TransitionDef[];
  title: string;
  label: (x: TransitionDef) => string;
  onMove: (x: TransitionDef) => void;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) requestAnimationFrame(() => list.current?.querySelector<HTMLElement>('button')?.focus());
  }, [open]);
  if (!moves.length) return null;
  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    const buttons = Array.from(list.current?.querySelectorAll<HTMLElement>('button') ?? []);
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (at + (e.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length;
      buttons[next]?.focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  };
  return (
    <Popover
      open={open}
      onOpenChange={setOpen}
      trigger="click"
      placement="bottomRight"
      title={t('kanban.moveTo')}
      content={
        <div ref={list} role="menu" aria-label={t('kanban.moveCard', { title })} className="weft-move-menu" onKeyDown={onKeyDown}>
          {moves.map((x) => (
            <Button
              key={x.name}
              role="menuitem"
              type="text"
              block
              data-move={x.to}
              onClick={() => {
                setOpen(false);
                onMove(x);
              }}
            >
              {label(x)}
            </Button>
          ))}
        </div>
      }
    >
      <Button
        ref={trigger}
        size="small"
        type="text"
        className="weft-move"
        icon={<SwapOutlined />}
        aria-label={t('kanban.moveCard', { title })}
        aria-haspopup="menu"
        aria-expanded={open}
        title={t('kanban.moveTo')}
      />
    </Popover>
  );
}
