import type { NotificationLevel, UiOps, UiRequest, UiRequestContext, UiRequestResult } from '@parley/core';

/** A UI that answers requests from a script and records everything it was asked and told. */
export class RecordingUi implements UiOps {
  readonly requests: Array<{ request: UiRequest; context: UiRequestContext }> = [];
  readonly notifications: Array<{ level: NotificationLevel; title: string; message: string | undefined }> = [];

  constructor(private readonly answer: (request: UiRequest, context: UiRequestContext) => unknown = () => undefined) {}

  async request<R extends UiRequest>(request: R, context: UiRequestContext): Promise<UiRequestResult<R>> {
    this.requests.push({ request, context });
    return this.answer(request, context) as UiRequestResult<R>;
  }

  notify(level: NotificationLevel, title: string, message?: string): void {
    this.notifications.push({ level, title, message });
  }
}
