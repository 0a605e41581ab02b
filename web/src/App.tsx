import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { lazy, Suspense, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { usePrefersReducedMotion } from './a11y/motion';
import { useSession } from './auth/session';
import { LangContext } from './i18n/lang';
import Home from './pages/Home';
import AcceptInvitation from './pages/AcceptInvitation';
import Login from './pages/Login';
import Shell from './pages/Shell';

// Heavy pages load on first use; the admin pages only ever for administrators, so their
// code never reaches a guest's browser.
const ListPage = lazy(() => import('./pages/ListPage'));
const RecordPage = lazy(() => import('./pages/RecordPage'));
const Inbox = lazy(() => import('./pages/Inbox'));
const SearchPage = lazy(() => import('./search/SearchPage'));
const NotificationSettings = lazy(() => import('./delivery/NotificationSettings'));
const AdminPage = lazy(() => import('./admin/AdminPage'));
// The public supplier application (no account needed).
const ApplySupplier = lazy(() => import('./pages/ApplySupplier'));

export function PageLoading() {
  const { t } = useTranslation();
  return (
    <div className="weft-page-loading" role="status" aria-live="polite">
      <Spin /> <span className="weft-sr">{t('common.loading')}</span>
    </div>
  );
}

export default function App() {
  const { i18n } = useTranslation();
  const { principal, isAdmin } = useSession();
  const { pathname } = useLocation();
  const zh = i18n.language !== 'en';
  const calm = usePrefersReducedMotion();
  useEffect(() => {
    dayjs.locale(zh ? 'zh-cn' : 'en');
  }, [zh]);

  return (
    <LangContext.Provider value={i18n.language}>
    <ConfigProvider locale={zh ? zhCN : enUS} theme={{ token: { colorPrimary: '#1f5fbf', borderRadius: 6, motion: !calm } }}>
      <AntApp>
        {pathname === '/apply/supplier' ? (
          <Suspense fallback={<PageLoading />}>
            <ApplySupplier />
          </Suspense>
        ) : principal === undefined ? (
          <PageLoading />
        ) : principal === null ? (
          pathname === '/accept-invitation' ? <AcceptInvitation /> : <Login />
        ) : (
          <Shell>
            <Suspense fallback={<PageLoading />}>
              <Routes>
                <Route path="/" element={<Home />} />
                <Route path="/inbox" element={<Inbox />} />
                <Route path="/search" element={<SearchPage />} />
                <Route path="/settings/notifications" element={<NotificationSettings />} />
                <Route path="/r/:type" element={<ListPage />} />
                <Route path="/r/:type/new" element={<RecordPage />} />
                <Route path="/r/:type/:id" element={<RecordPage />} />
                {isAdmin ? <Route path="/admin/*" element={<AdminPage />} /> : null}
                <Route path="*" element={<Navigate to="/" replace />} />
              </Routes>
            </Suspense>
          </Shell>
        )}
      </AntApp>
    </ConfigProvider>
    </LangContext.Provider>
  );
}
