// "Create purchase order" on an approved requisition: the buyer picks a supplier (among
// those with a supplier profile, i.e. onboarded), the lines to order and, when the lines
// name no item, the category; the server makes the draft order and the buyer lands on it.
import { Alert, Button, Checkbox, Form, Modal, Select } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api, type RecordJson } from '../../api/client';
import { ReferencePicker } from '../../fields/reference';
import { useTypes } from '../../meta/context';
import { labelOf } from '../../meta/fields';
import { useFieldErrorText, useProblemText } from '../../pages/transition';

interface Values {
  profile?: string | null;
  lines?: number[];
  category?: string;
}

/** `#1 M8 bolt × 40` for each requisition line. */
export function requisitionLineOptions(record: RecordJson): { value: number; label: string }[] {
  const lines = (Array.isArray(record.lines) ? record.lines : []) as Record<string, unknown>[];
  return lines.map((l, i) => ({
    value: i,
    label: [`#${i + 1}`, l.description, l.qty != null ? `× ${String(l.qty).replace(/\.?0+$/, '')}` : null].filter(Boolean).join(' '),
  }));
}

export function OrderFromRequisition({ requisition }: { requisition: RecordJson }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { byName } = useTypes();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm<Values>();
  const problemText = useProblemText();
  const errorText = useFieldErrorText();
  const lineOptions = requisitionLineOptions(requisition);
  const categories = byName('purchase_order')?.fields.find((f) => f.name === 'category')?.options ?? [];

  const submit = async () => {
    setBusy(true);
    setError(null);
    const v = form.getFieldsValue(true) as Values;
    let supplier: string | undefined;
    if (v.profile) {
      const { data } = await api.GET('/api/v1/records/{type}/{id}', { params: { path: { type: 'supplier_profile', id: v.profile } } });
      supplier = typeof data?.supplier === 'string' ? data.supplier : undefined;
    }
    const { data, error: problem } = await api.POST('/api/v1/procurement/requisitions/{id}/order', {
      params: { path: { id: requisition.id } },
      body: { supplier, lines: v.lines, category: v.category || undefined },
    });
    setBusy(false);
    if (data) {
      setOpen(false);
      navigate(`/r/purchase_order/${String((data as RecordJson).id)}`);
      return;
    }
    if (problem) {
      // The server names `/supplier`, `/lines/…` and `/category`: shown at those fields.
      const errors = problem.status === 422 ? (problem.errors ?? []) : [];
      const at = (match: (pointer: string) => boolean) => errors.filter((e) => match(e.pointer)).map(errorText);
      form.setFields([
        { name: 'profile', errors: at((p) => p === '/supplier') },
        { name: 'lines', errors: at((p) => p.startsWith('/lines')) },
        { name: 'category', errors: at((p) => p === '/category') },
      ]);
      setError(errors.length ? t('record.invalid') : problemText(problem, null, []));
    }
  };

  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} data-testid="order-from-requisition">
        {t('procurement.order.button')}
      </Button>
      <Modal
        open={open}
        title={t('procurement.order.title')}
        okText={t('procurement.order.create')}
        cancelText={t('record.cancel')}
        confirmLoading={busy}
        onOk={() => void submit()}
        onCancel={() => setOpen(false)}
        destroyOnClose
      >
        {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
        <Form form={form} layout="vertical" initialValues={{ lines: lineOptions.map((o) => o.value) }}>
          <Form.Item name="profile" label={t('procurement.order.supplier')} required extra={t('procurement.order.supplierHelp')}>
            <ReferencePicker target="supplier_profile" aria-label={t('procurement.order.supplier')} />
          </Form.Item>
          <Form.Item name="lines" label={t('procurement.order.lines')}>
            <Checkbox.Group options={lineOptions} style={{ display: 'flex', flexDirection: 'column', gap: 4 }} />
          </Form.Item>
          <Form.Item name="category" label={t('procurement.order.category')} extra={t('procurement.order.categoryHelp')}>
            <Select
              allowClear
              aria-label={t('procurement.order.category')}
              options={categories.map((o) => ({ value: o.value, label: labelOf(o.label, i18n.language) }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
