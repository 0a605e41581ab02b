import { BellOutlined, HomeOutlined, LogoutOutlined, MailOutlined, MenuOutlined, SettingOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Badge, Button, Drawer, Dropdown, Grid, Layout, Menu, type MenuProps } from 'antd';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { useSession } from '../auth/session';
import { LangSwitch } from '../LangSwitch';
import { TypesContext } from '../meta/context';
import { adaptType, labelOf, type TypeDef } from '../meta/fields';
import { SearchBox } from '../search/SearchBox';
import { useInboxCounts } from './inboxCounts';

/** The frame around every page: header (language, user menu), navigation by app and
 * object type (only the types the user may read), and the types for every page below. */
export default function Shell({ children }: { children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { principal, isGuest, isAdmin, signOut } = useSession();
  const [types, setTypes] = useState<TypeDef[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [drawer, setDrawer] = useState(false);
  const screens = Grid.useBreakpoint();
  const phone = screens.md === false;
  const location = useLocation();
  const navigate = useNavigate();
  const counts = useInboxCounts();
  const unread = counts?.unread ?? 0;

  const reload = useCallback(async () => {
    const { data, response } = await api.GET('/api/v1/types');
    if (data) {
      setTypes(data.items.map(adaptType));
      setError(null);
    } else setError(`${response.status} ${response.statusText}`);
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  useEffect(() => setDrawer(false), [location.pathname]);

  const byName = useCallback((name: string) => types.find((x) => x.name === name), [types]);
  const readable = useMemo(() => types.filter((x) => x.permissions.read), [types]);

  const items: MenuProps['items'] = useMemo(() => {
    const apps = [...new Set(readable.map((x) => x.app))].sort();
    const appLabel = (app: string) => (i18n.exists(`apps.${app}`) ? t(`apps.${app}` as 'apps.core') : app);
    const out: MenuProps['items'] = [
      { key: '/', icon: <HomeOutlined />, label: <Link to="/">{t('shell.home')}</Link> },
      { key: '/inbox', icon: <BellOutlined />, label: <Link to="/inbox">{t('shell.inbox')}</Link> },
    ];
    for (const app of apps) {
      out.push({
        key: `app:${app}`,
        type: 'group',
        label: appLabel(app),
        children: readable
          .filter((x) => x.app === app)
          .map((x) => ({ key: `/r/${x.name}`, label: <Link to={`/r/${x.name}`}>{labelOf(x.pluralLabel, lang)}</Link> })),
      });
    }
    if (isAdmin) {
      out.push({ type: 'divider' }, { key: '/admin', icon: <SettingOutlined />, label: <Link to="/admin">{t('shell.admin')}</Link> });
    }
    return out;
  }, [readable, isAdmin, lang, t]);

  const selected = location.pathname.startsWith('/admin')
    ? '/admin'
    : location.pathname === '/inbox' || location.pathname === '/search' || location.pathname.startsWith('/settings')
      ? location.pathname
      : (/^\/r\/[^/]+/.exec(location.pathname)?.[0] ?? '/');

  const nav = <Menu mode="inline" items={items} selectedKeys={[selected]} className="weft-nav" aria-label={t('shell.menu')} />;

  const userMenu: MenuProps = {
    items: [
      { key: 'notifications', icon: <MailOutlined />, label: <span data-testid="menu-notifications">{t('shell.notifications')}</span> },
      { key: 'signout', icon: <LogoutOutlined />, label: t('shell.signOut') },
    ],
    onClick: ({ key }) => {
      if (key === 'notifications') navigate('/settings/notifications');
      if (key === 'signout') void signOut().then(() => navigate('/'));
    },
  };

  return (
    <TypesContext.Provider value={{ types, byName, reload }}>
      <a className="weft-skip" href="#weft-main">
        {t('shell.skip')}
      </a>
      <Layout className="weft-shell">
        <Layout.Header className="weft-header">
          {phone ? (
            <Button type="text" icon={<MenuOutlined />} aria-label={t('shell.menu')} onClick={() => setDrawer(true)} className="weft-header-btn" />
          ) : null}
          <Link to="/" className="weft-brand">
            {t('app.name')}
            {isGuest ? <span className="weft-brand-sub">{t('shell.portal')}</span> : null}
          </Link>
          <div className="weft-header-right">
            <SearchBox compact={phone} />
            <Link to="/inbox" className="weft-header-btn weft-badge-btn" aria-label={`${t('shell.inbox')} · ${t('inbox.badge', { count: unread })}`} data-testid="inbox-badge" data-unread={unread}>
              <Badge count={unread} size="small" overflowCount={99}>
                <BellOutlined className="weft-bell" />
              </Badge>
            </Link>
            <LangSwitch />
            <Dropdown menu={userMenu} trigger={['click']}>
              <Button type="text" icon={<UserOutlined />} className="weft-header-btn" data-testid="user-menu">
                {phone ? null : principal?.display_name}
              </Button>
            </Dropdown>
          </div>
        </Layout.Header>
        <Layout>
          {phone ? (
            <Drawer open={drawer} onClose={() => setDrawer(false)} placement="left" width={260} title={t('app.name')} styles={{ body: { padding: 0 } }}>
              {nav}
            </Drawer>
          ) : (
            <Layout.Sider width={220} theme="light" className="weft-sider">
              {nav}
            </Layout.Sider>
          )}
          <Layout.Content id="weft-main" className="weft-content" tabIndex={-1}>
            {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
            {children}
          </Layout.Content>
        </Layout>
      </Layout>
    </TypesContext.Provider>
  );
}
