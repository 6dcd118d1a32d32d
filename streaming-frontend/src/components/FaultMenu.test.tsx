import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { FaultMenu } from './FaultMenu';

describe('FaultMenu', () => {
  it('offers the applied faults as they are, and applies only what is ticked', () => {
    const onApply = vi.fn();
    render(<FaultMenu faults={{ stall_after: 7 }} seed={4} onApply={onApply} />);
    expect(screen.getByTestId('faults-badge')).toBeInTheDocument();
    expect(screen.getByTestId('fault-stall_after')).toBeChecked();
    expect(screen.getByTestId('fault-stall_after-value')).toHaveValue(7);
    expect(screen.getByTestId('fault-drop-value')).toBeDisabled();
    expect(screen.getByTestId('fault-seed')).toHaveValue('4');
    fireEvent.click(screen.getByTestId('fault-status'));
    fireEvent.change(screen.getByTestId('fault-status-value'), { target: { value: '429' } });
    fireEvent.click(screen.getByTestId('apply-faults'));
    expect(onApply).toHaveBeenLastCalledWith({ stall_after: 7, status: 429 }, 4);
    fireEvent.click(screen.getByTestId('clear-faults-menu'));
    expect(onApply).toHaveBeenLastCalledWith({}, null);
  });

  it('says what is wrong instead of sending it', () => {
    const onApply = vi.fn();
    render(<FaultMenu faults={{}} seed={null} onApply={onApply} />);
    expect(screen.queryByTestId('faults-badge')).toBeNull();
    fireEvent.click(screen.getByTestId('fault-disconnect_after'));
    fireEvent.change(screen.getByTestId('fault-disconnect_after-value'), { target: { value: '0' } });
    fireEvent.click(screen.getByTestId('apply-faults'));
    expect(screen.getByTestId('fault-error')).toHaveTextContent('at least 1');
    fireEvent.change(screen.getByTestId('fault-disconnect_after-value'), { target: { value: '2' } });
    fireEvent.change(screen.getByTestId('fault-seed'), { target: { value: 'abc' } });
    fireEvent.click(screen.getByTestId('apply-faults'));
    expect(screen.getByTestId('fault-error')).toHaveTextContent('seed');
    expect(onApply).not.toHaveBeenCalled();
  });

  it('follows faults changed from outside (the banner stopped them)', () => {
    const { rerender } = render(<FaultMenu faults={{ drop: 0.5 }} seed={null} onApply={() => undefined} />);
    expect(screen.getByTestId('fault-drop')).toBeChecked();
    rerender(<FaultMenu faults={{}} seed={null} onApply={() => undefined} />);
    expect(screen.getByTestId('fault-drop')).not.toBeChecked();
  });
});
