// The search box in the header. "/" (outside a text field) or Ctrl+K / ⌘K focuses it;
// Enter opens the results page. On a phone it is a button to the results page instead.
import { SearchOutlined } from '@ant-design/icons';
import { Button, Input, type InputRef } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { isFocusShortcut, searchPath } from './query';

export function SearchBox({ compact }: { compact: boolean }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const input = useRef<InputRef>(null);
  const current = location.pathname === '/search' ? (new URLSearchParams(location.search).get('q') ?? '') : '';
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!isFocusShortcut(e, document.activeElement)) return;
      e.preventDefault();
      if (compact) navigate('/search');
      else input.current?.focus({ cursor: 'all' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [compact, navigate]);

  if (compact) {
    return (
      <Button type="text" icon={<SearchOutlined />} aria-label={t('search.open')} className="weft-header-btn" data-testid="search-open" onClick={() => navigate('/search')} />
    );
  }
  return (
    <Input
      ref={input}
      className="weft-search-box"
      prefix={<SearchOutlined />}
      placeholder={t('search.placeholder')}
      aria-label={t('search.label')}
      data-testid="search-box"
      value={text}
      allowClear
      onChange={(e) => setText(e.target.value)}
      onPressEnter={() => {
        if (text.trim()) navigate(searchPath(text));
      }}
      suffix={<kbd className="weft-kbd">/</kbd>}
    />
  );
}
