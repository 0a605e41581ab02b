import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { MemoryRouter } from 'react-router-dom';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { changeLang, i18n, initI18n } from '../i18n';
import { LangContext } from '../i18n/lang';
import { SessionProvider } from '../auth/session';
import { adaptField, FIELD_KINDS, type ApiFieldDecl, type FieldDef, type FieldKind } from '../meta/fields';
import { displayComponent, FieldDisplay, FieldInput, inputComponent } from './dispatch';

const label = { en: 'Label', zh: '标签' };
const options = [
  { value: 'a', label: { en: 'Apple', zh: '苹果' } },
  { value: 'b', label: { en: 'Banana', zh: '香蕉' } },
];

/** A declaration and a value, as the API writes them, for every kind. */
const SAMPLES: Record<FieldKind, [Record<string, unknown>, unknown]> = {
  text: [{ type: 'text', max_length: 20 }, 'Steel'],
  long_text: [{ type: 'long_text' }, 'line one\nline two'],
  rich_text: [{ type: 'rich_text' }, '<p><b>bold</b></p>'],
  integer: [{ type: 'integer' }, 12345],
  decimal: [{ type: 'decimal', scale: 3 }, '1234.5'],
  money: [{ type: 'money', currency: 'CNY' }, { amount: '1200.50', currency: 'CNY' }],
  percent: [{ type: 'percent' }, '12.5'],
  boolean: [{ type: 'boolean' }, true],
  date: [{ type: 'date' }, '2026-03-14'],
  datetime: [{ type: 'datetime' }, '2026-03-14T01:30:00Z'],
  duration: [{ type: 'duration' }, 'P1DT2H30M'],
  email: [{ type: 'email' }, 'li.wei@example.com'],
  phone: [{ type: 'phone' }, '+86 10 1234 5678'],
  url: [{ type: 'url' }, 'https://example.com/x'],
  select: [{ type: 'select', options }, 'b'],
  multi_select: [{ type: 'multi_select', options }, ['a', 'b']],
  reference: [{ type: 'reference', target: 'deal' }, '0190f5a4-0000-7000-8000-000000000001'],
  party: [{ type: 'party' }, '0190f5a4-0000-7000-8000-000000000002'],
  principal: [{ type: 'principal' }, '0190f5a4-0000-7000-8000-000000000003'],
  org_unit: [{ type: 'org_unit' }, '0190f5a4-0000-7000-8000-000000000004'],
  lines: [
    { type: 'lines', fields: [{ name: 'qty', label, type: 'integer' }, { name: 'item', label, type: 'text' }] },
    [{ qty: 3, item: 'bolt' }],
  ],
  attachment: [{ type: 'attachment', multiple: true }, ['a'.repeat(64), 'b'.repeat(64)]],
  json: [{ type: 'json' }, { k: [1, 2] }],
  computed: [{ type: 'computed', expression: 'qty * 2', result: { type: 'decimal', scale: 2 } }, '7.5'],
};

const fieldOf = (kind: FieldKind): FieldDef =>
  adaptField({ name: `f_${kind}`, label, ...SAMPLES[kind][0] } as unknown as ApiFieldDecl);

function render(node: JSX.Element): string {
  return renderToStaticMarkup(
    <I18nextProvider i18n={i18n}>
      <LangContext.Provider value={i18n.language}>
        <SessionProvider>
          <MemoryRouter>{node}</MemoryRouter>
        </SessionProvider>
      </LangContext.Provider>
    </I18nextProvider>,
  );
}

beforeAll(() => {
  initI18n();
  changeLang('en');
});

describe('field dispatcher', () => {
  it('knows exactly the kinds the server declares', () => {
    const doc = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));
    const server = doc.components.schemas.FieldKind.oneOf.map((k: { properties: { type: { enum: string[] } } }) => k.properties.type.enum[0]);
    expect([...FIELD_KINDS].sort()).toEqual(server.sort());
  });

  it.each(FIELD_KINDS)('%s has a display and (unless computed) an input', (kind) => {
    const field = fieldOf(kind);
    expect(field.kind).toBe(kind);
    if (kind === 'computed') {
      expect(inputComponent(kind)).toBeNull();
      expect(field.readOnly).toBe(true);
    } else {
      expect(inputComponent(kind)).toBeTypeOf('function');
      expect(displayComponent(kind)).toBeTypeOf('function');
    }
  });

  it.each(FIELD_KINDS)('%s renders its sample value for reading and editing', (kind) => {
    const field = fieldOf(kind);
    const value = SAMPLES[kind][1];
    expect(render(<FieldDisplay field={field} value={value} />)).not.toBe('');
    expect(render(<FieldInput field={field} value={value} onChange={() => {}} />)).not.toBe('');
  });

  it('formats per language', () => {
    const money = fieldOf('money');
    const en = render(<FieldDisplay field={money} value={{ amount: '1200.50', currency: 'CNY' }} />);
    expect(en).toContain('1,200.50');
    expect(render(<FieldDisplay field={fieldOf('select')} value="b" />)).toContain('Banana');
    expect(render(<FieldDisplay field={fieldOf('duration')} value="P1DT2H30M" />)).toMatch(/1 day.*2 hr.*30 min/);
    changeLang('zh');
    expect(render(<FieldDisplay field={fieldOf('select')} value="b" />)).toContain('香蕉');
    expect(render(<FieldDisplay field={fieldOf('boolean')} value={true} />)).toContain('是');
    changeLang('en');
  });

  it('shows empty values as a dash, and hidden ones as hidden', () => {
    expect(render(<FieldDisplay field={fieldOf('text')} value={null} />)).toContain('—');
    expect(render(<FieldDisplay field={fieldOf('multi_select')} value={[]} />)).toContain('—');
    expect(render(<FieldDisplay field={fieldOf('text')} value="x" hidden />)).toContain('Hidden');
  });

  it('shows a computed field as its result kind', () => {
    expect(render(<FieldDisplay field={fieldOf('computed')} value="7.5" />)).toContain('7.5');
    expect(render(<FieldInput field={fieldOf('computed')} value="7.5" />)).toContain('7.5');
  });
});
