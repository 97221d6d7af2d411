// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createRef, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { useControllableState } from './controllable-state.js';
import { Primitive } from './primitive.js';

afterEach(cleanup);

describe('Primitive', () => {
  it('renders its element, or with asChild the child with props, handlers and ref merged', () => {
    const clicks: string[] = [];
    const ref = createRef<HTMLElement>();
    render(
      <>
        <Primitive as="button" type="button" data-state="open" onClick={() => clicks.push('own')}>
          own
        </Primitive>
        <Primitive as="button" asChild data-state="open" className="part" ref={ref as never} onClick={() => clicks.push('part')}>
          <a href="/x" className="mine" onClick={() => clicks.push('child')}>
            Docs
          </a>
        </Primitive>
      </>,
    );
    expect(screen.getByText('own').tagName).toBe('BUTTON');
    const link = screen.getByText('Docs');
    expect(link.tagName).toBe('A');
    expect(link.getAttribute('data-state')).toBe('open');
    expect(link.className.split(' ').sort()).toEqual(['mine', 'part']);
    expect(ref.current).toBe(link);
    fireEvent.click(link);
    fireEvent.click(screen.getByText('own'));
    expect(clicks).toEqual(['child', 'part', 'own']);
  });
});

function Toggle({ open, onChange }: { open?: boolean; onChange?: (v: boolean) => void }) {
  const [value, setValue] = useControllableState({ prop: open, defaultProp: false, onChange });
  return (
    <button type="button" onClick={() => setValue(!value)}>
      {String(value)}
    </button>
  );
}

function Owner({ seen }: { seen: boolean[] }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Toggle open={open} onChange={(v) => seen.push(v)} />
      <button type="button" onClick={() => setOpen(true)}>
        owner
      </button>
    </>
  );
}

describe('useControllableState', () => {
  it('keeps its own state when uncontrolled and reports changes', () => {
    const seen: boolean[] = [];
    render(<Toggle onChange={(v) => seen.push(v)} />);
    fireEvent.click(screen.getByRole('button'));
    expect(screen.getByRole('button').textContent).toBe('true');
    expect(seen).toEqual([true]);
  });

  it('follows the prop when controlled: a change is only reported', () => {
    const seen: boolean[] = [];
    render(<Owner seen={seen} />);
    const toggle = screen.getByText('false');
    fireEvent.click(toggle);
    expect(toggle.textContent).toBe('false');
    expect(seen).toEqual([true]);
    act(() => fireEvent.click(screen.getByText('owner')));
    expect(toggle.textContent).toBe('true');
  });
});
