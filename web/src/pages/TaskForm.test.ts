import { describe, expect, it } from 'vitest';
import { fieldLabel, optionLabel } from './TaskForm';

describe('task form options', () => {
  const field = { options: ['accept', 'request_credit'], option_labels: ['Accept', 'Ask for a credit note'], option_labels_zh: ['接受', '要求红字发票'] };

  it('shows an option in the language, then in English, then as its readable value', () => {
    expect(optionLabel(field, 1, 'zh-CN')).toBe('要求红字发票');
    expect(optionLabel(field, 1, 'en')).toBe('Ask for a credit note');
    expect(optionLabel({ ...field, option_labels_zh: [] }, 0, 'zh-CN')).toBe('Accept');
    expect(optionLabel({ options: ['request_credit'], option_labels: [], option_labels_zh: [] }, 0, 'zh-CN')).toBe('Request credit');
    expect(fieldLabel('payment_reference')).toBe('Payment reference');
  });
});
