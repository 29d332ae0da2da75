import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog on the native <dialog>: the browser traps focus, Escape closes it, and the rest of
 * the page is inert while it is open. Focus goes to `initialFocus` (else the first control), and
 * back where it was when it closes.
 */
export function Modal({
  title,
  children,
  footer,
  onClose,
  wide,
  testId,
}: {
  title: ReactNode;
  children: ReactNode;
  footer: (ids: { initialFocus: string }) => ReactNode;
  onClose: () => void;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    document.getElementById(`${id}-focus`)?.focus();
    return () => {
      dialog.close();
      before?.focus();
    };
  }, [id]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'modal wide' : 'modal'}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={`${id}-title`} className="modal-title">
        {title}
      </h2>
      <div id={`${id}-body`} className="modal-body">
        {children}
      </div>
      <div className="modal-actions">{footer({ initialFocus: `${id}-focus` })}</div>
    </dialog>
  );
}

/** Asks before an operation that restarts ComfyUI or rewrites files; Cancel (the default) does nothing. */
export function ConfirmDialog({ title, confirmLabel, children, onClose }: { title: string; confirmLabel: string; children: ReactNode; onClose: (confirmed: boolean) => void }) {
  return (
    <Modal
      title={title}
      testId="confirm-dialog"
      onClose={() => onClose(false)}
      footer={({ initialFocus }) => (
        <>
          <button id={initialFocus} onClick={() => onClose(false)}>
            Cancel
          </button>
          <button className="danger-solid" onClick={() => onClose(true)}>
            {confirmLabel}
          </button>
        </>
      )}
    >
      {children}
    </Modal>
  );
}
