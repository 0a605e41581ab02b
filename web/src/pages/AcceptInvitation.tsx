import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../auth/session';
import { LangSwitch } from '../LangSwitch';

/** `/accept-invitation#token=…`: a partner's contact sets a password and is signed in.
 * The token travels in the fragment, so it never reaches a server log. */
export default function AcceptInvitation() {
  const { t } = useTranslation();
  const { signedIn } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';

  const accept = async (v: { password: string }) => {
    setBusy(true);
    setError(null);
    const { data, error: problem, response } = await api.POST('/api/v1/auth/invitations/accept', { body: { token, password: v.password } });
    setBusy(false);
    if (data?.status === 'signed_in') {
      window.history.replaceState(null, '', '/');
      navigate('/', { replace: true });
      signedIn(data.principal, data.csrf_token);
    } else if (response.status === 422) {
      setError(problem?.errors?.[0]?.reason ?? problem?.detail ?? t('invitation.weak'));
    } else setError(t('invitation.invalid'));
  };

  return (
    <main className="weft-login">
      <div className="weft-login-lang">
        <LangSwitch />
      </div>
      <Card className="weft-login-card">
        <Typography.Title level={3}>{t('invitation.title')}</Typography.Title>
        <Typography.Paragraph type="secondary">{t('invitation.help')}</Typography.Paragraph>
        {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
        {token ? (
          <Form layout="vertical" onFinish={(v) => void accept(v)} requiredMark={false} name="accept">
            <Form.Item name="password" label={t('login.password')} rules={[{ required: true, min: 10, message: t('invitation.weak') }]}>
              <Input.Password autoComplete="new-password" autoFocus />
            </Form.Item>
            <Form.Item
              name="confirm"
              label={t('invitation.confirm')}
              dependencies={['password']}
              rules={[
                { required: true, message: t('login.required') },
                ({ getFieldValue }) => ({
                  validator: (_, value) =>
                    value === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error(t('invitation.mismatch'))),
                }),
              ]}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('invitation.accept')}
            </Button>
          </Form>
        ) : (
          <Alert type="warning" showIcon message={t('invitation.invalid')} />
        )}
      </Card>
    </main>
  );
}
