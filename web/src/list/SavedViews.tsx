// The list page's saved views: a picker (the caller's own views, then the shared ones), a
// button saving the current setup under a name (shared when the caller manages the type),
// and, for one's own chosen view, save changes / rename / delete. The server decides who
// sees and shares what (`weft_workspace::views`); this only offers what it allows.
import { DeleteOutlined, EditOutlined, MoreOutlined, SaveOutlined } from '@ant-design/icons';
import { App, Button, Checkbox, Dropdown, Form, Input, Modal, Select, Space, Tag } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Problem } from '../api/client';
import { labelOf, type TypeDef } from '../meta/fields';
import type { SavedView, ViewSpec } from './setup';

interface Props {
  def: TypeDef;
  /** The page's setup now, as a view would store it. */
  current: ViewSpec;
  /** The chosen view, if any. */
  chosen: SavedView | null;
  /** Whether the page's setup differs from the chosen view's. */
  changed: boolean;
  onChoose: (view: SavedView | null) => void;
}

type Dialog = { mode: 'save' } | { mode: 'rename'; view: SavedView } | null;

export default function SavedViews({ def, current, chosen, changed, onChoose }: Props) {
  const { t, i18n } = useTranslation();
  const { message, modal } = App.useApp();
  const [views, setViews] = useState<SavedView[]>([]);
  const [canShare, setCanShare] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ name: string; shared: boolean }>();

  const refresh = useCallback(async () => {
    const { data } = await api.GET('/api/v1/types/{name}/views', { params: { path: { name: def.name } } });
    if (data) {
      setViews(data.items);
      setCanShare(data.can_share);
    }
    return data?.items ?? [];
  }, [def.name]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  /** A refused save: a field problem at its field, anything else as a message. */
  const refused = (problem: Problem | undefined) => {
    const at = problem?.errors?.find((e) => e.pointer === '/name');
    if (at) form.setFields([{ name: 'name', errors: [at.reason] }]);
    else void message.error(t('views.failed', { detail: problem?.detail ?? problem?.title ?? '' }));
  };

  const submit = async () => {
    const { name, shared } = form.getFieldsValue();
    setBusy(true);
    if (dialog?.mode === 'rename') {
      const { data, error } = await api.PATCH('/api/v1/types/{name}/views/{id}', {
        params: { path: { name: def.name, id: dialog.view.id } },
        body: { name },
      });
      setBusy(false);
      if (!data) return refused(error);
      setDialog(null);
      await refresh();
      if (chosen?.id === data.id) onChoose(data);
      void message.success(t('views.updated', { name: data.name }));
      return;
    }
    const { data, error } = await api.POST('/api/v1/types/{name}/views', {
      params: { path: { name: def.name } },
      body: { name, shared: canShare && !!shared, spec: current },
    });
    setBusy(false);
    if (!data) return refused(error);
    setDialog(null);
    await refresh();
    onChoose(data);
    void message.success(t('views.saved', { name: data.name }));
  };

  const overwrite = async (view: SavedView) => {
    const { data, error } = await api.PATCH('/api/v1/types/{name}/views/{id}', {
      params: { path: { name: def.name, id: view.id } },
      body: { spec: current },
    });
    if (!data) return void message.error(t('views.failed', { detail: error?.detail ?? error?.title ?? '' }));
    await refresh();
    onChoose(data);
    void message.success(t('views.updated', { name: data.name }));
  };

  const remove = (view: SavedView) =>
    modal.confirm({
      title: t('views.deleteConfirm', { name: view.name }),
      okText: t('views.delete'),
      okButtonProps: { danger: true },
      cancelText: t('record.cancel'),
      onOk: async () => {
        const { error } = await api.DELETE('/api/v1/types/{name}/views/{id}', { params: { path: { name: def.name, id: view.id } } });
        if (error) return void message.error(t('views.failed', { detail: error.detail ?? error.title }));
        await refresh();
        if (chosen?.id === view.id) onChoose(null);
        void message.success(t('views.deleted'));
      },
    });

  const option = (v: SavedView) => ({
    value: v.id,
    label: (
      <span className="weft-view-option">
        {v.name}
        {v.shared ? <Tag bordered={false} color="blue">{t('views.sharedTag')}</Tag> : null}
      </span>
    ),
    title: v.name,
  });
  const mine = views.filter((v) => v.mine);
  const others = views.filter((v) => !v.mine);
  const options = [
    ...(mine.length ? [{ label: t('views.mine'), options: mine.map(option) }] : []),
    ...(others.length ? [{ label: t('views.shared'), options: others.map(option) }] : []),
  ];

  return (
    <div className="weft-views" data-testid="saved-views">
      <Space.Compact>
        <Select
          allowClear
          aria-label={t('views.label')}
          placeholder={t('views.placeholder')}
          style={{ minWidth: 170 }}
          value={chosen?.id}
          options={options}
          optionLabelProp="title"
          onChange={(id?: string) => onChoose(views.find((v) => v.id === id) ?? null)}
          notFoundContent={null}
        />
        {chosen?.mine ? (
          <Dropdown
            trigger={['click']}
            menu={{
              items: [
                { key: 'update', icon: <SaveOutlined />, label: t('views.update', { name: chosen.name }), disabled: !changed },
                { key: 'rename', icon: <EditOutlined />, label: t('views.rename') },
                { key: 'delete', icon: <DeleteOutlined />, label: t('views.delete'), danger: true },
              ],
              onClick: ({ key }) => {
                if (key === 'update') void overwrite(chosen);
                if (key === 'rename') {
                  form.setFieldsValue({ name: chosen.name, shared: chosen.shared });
                  setDialog({ mode: 'rename', view: chosen });
                }
                if (key === 'delete') remove(chosen);
              },
            }}
          >
            <Button icon={<MoreOutlined />} aria-label={t('views.manage')} data-testid="view-actions" />
          </Dropdown>
        ) : null}
      </Space.Compact>
      {chosen && changed ? <Tag bordered={false} className="weft-view-changed">{t('views.changed')}</Tag> : null}
      <Button
        icon={<SaveOutlined />}
        onClick={() => {
          form.resetFields();
          setDialog({ mode: 'save' });
        }}
        data-testid="save-view"
      >
        {t('views.save')}
      </Button>
      <Modal
        open={dialog !== null}
        title={dialog?.mode === 'rename' ? t('views.renameTitle', { name: dialog.view.name }) : t('views.saveTitle')}
        onCancel={() => setDialog(null)}
        onOk={() => void form.validateFields().then(submit, () => undefined)}
        okText={t('record.save')}
        cancelText={t('record.cancel')}
        confirmLoading={busy}
        destroyOnClose
      >
        <Form form={form} layout="vertical" name="saved_view" preserve={false}>
          <Form.Item name="name" label={t('views.name')} rules={[{ required: true, whitespace: true, message: t('fieldError.required') }, { max: 80 }]}>
            <Input maxLength={80} autoFocus />
          </Form.Item>
          {dialog?.mode === 'save' && canShare ? (
            <Form.Item name="shared" valuePropName="checked" extra={t('views.shareHelp')}>
              <Checkbox>{t('views.share', { type: labelOf(def.pluralLabel, i18n.language) })}</Checkbox>
            </Form.Item>
          ) : null}
        </Form>
      </Modal>
    </div>
  );
}
