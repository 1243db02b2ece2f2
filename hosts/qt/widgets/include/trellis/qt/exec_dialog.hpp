// Await a dialog's answer without a nested event loop. Header-only; needs
// QtWidgets (link Qt6::Widgets, or use the trellis-qt-widgets dependency).
//
//   QMessageBox box(QMessageBox::Question, "Quit?", "Stop the jobs and quit?",
//                   QMessageBox::Yes | QMessageBox::No, &window);
//   if (co_await trellis::qt::exec_dialog(&box) == QMessageBox::Yes) ...
//
// QDialog::exec() runs a nested event loop: called from a task it holds up
// the whole run (and every other task) until the dialog closes.
// exec_dialog opens the dialog window-modal with QDialog::open(), which
// returns at once, and waits for its finished(int) signal as any trellis
// wait does: other tasks, timers and I/O carry on meanwhile.
#pragma once

#include <QDialog>
#include <QPointer>

#include "trellis/errors.hpp"
#include "trellis/qt.hpp"
#include "trellis/task.hpp"

namespace trellis::qt {

// Opens `dialog` with QDialog::open() (window-modal to its parent window,
// or application-modal without one) and returns its result code once it
// finishes: QDialog::Accepted or Rejected, or whatever code the dialog
// gave done() (a QMessageBox's button, for instance). A checkpoint: it
// always waits for the dialog. Cancelled, it rejects the dialog (which
// closes it) if it is still open, then throws cancelled. Throws
// closed_resource_error if the dialog is destroyed while open, run_error
// for a null dialog or outside a task. The caller owns the dialog (with
// Qt::WA_DeleteOnClose it deletes itself when it finishes). Call it in a
// task of a run on the dialog's thread (the application's).
inline task<int> exec_dialog(QDialog* dialog) {
    if (!dialog) throw run_error("trellis::qt::exec_dialog: the dialog is null; pass the dialog to open");
    QPointer<QDialog> guard(dialog);
    dialog->open();
    // The wait connects to finished() before this task can be suspended,
    // so nothing the dialog does after open() is missed.
    try {
        co_return co_await qt::wait_signal(dialog, &QDialog::finished);
    } catch (...) {
        // Cut short (cancelled, or the dialog destroyed). The wait is
        // already disconnected, so the finished() this reject() emits is
        // not seen.
        if (guard && guard->isVisible()) guard->reject();
        throw;
    }
}

}  // namespace trellis::qt
