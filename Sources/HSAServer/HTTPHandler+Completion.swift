import Foundation
import NIOCore
import NIOHTTP1

// POST /v1/completions: admission, the hand-off to a worker and the answer, whole or streamed.

extension HTTPHandler {
    /// Checks the request, takes a queue place and hands the job to a worker; the worker's
    /// events come back to this event loop in order.
    func startCompletion(body: Data, keepAlive: Bool, context: ChannelHandlerContext) {
        let job: CompletionJob
        do {
            job = try CompletionJob(
                CompletionRequest.decode(body), catalog: server.catalog, limits: server.limits)
        } catch {
            return send(error, keepAlive: keepAlive, context: context)
        }
        guard server.pool.admit() else {
            return send(.queueFull, keepAlive: keepAlive, context: context)
        }
        let cancel = CancelFlag()
        response = ResponseState(
            model: job.model, stream: job.stream, keepAlive: keepAlive, cancel: cancel)
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
        completionDeadline = eventLoop.scheduleTask(
            in: .milliseconds(Int64(server.limits.requestTimeout * 1000))
        ) {
            handler.value.completionTimedOut(context: boundContext.value)
        }
        let catalog = server.catalog
        server.pool.run { model, freePlace in
            CompletionRunner.run(job, model: model, catalog: catalog, cancelled: { cancel.isSet }) {
                event in
                if event.isFinal { freePlace() }
                eventLoop.execute {
                    handler.value.deliver(event, cancel: cancel, context: boundContext.value)
                }
            }
        }
    }

    /// Sends what a worker reported for the completion `cancel` belongs to (events of one
    /// cancelled earlier are dropped).
    func deliver(_ event: CompletionEvent, cancel: CancelFlag, context: ChannelHandlerContext) {
        guard var state = response, state.cancel === cancel else { return }
        switch event {
        case .text(let text):
            if state.stream {
                startStream(&state, context: context)
                sendEvent(state.body(text: text, finishReason: nil, usage: nil), context: context)
            } else {
                state.text += text
            }
            response = state
        case .finished(let reason, let promptTokens, let completionTokens):
            let usage = CompletionResponse.Usage(
                promptTokens: promptTokens, completionTokens: completionTokens)
            finishCompletion()
            if state.stream {
                startStream(&state, context: context)
                sendEvent(state.body(text: "", finishReason: reason, usage: nil), context: context)
                sendEvent(Data("[DONE]".utf8), context: context)
                endResponse(keepAlive: state.keepAlive, context: context)
            } else {
                let json = state.body(text: state.text, finishReason: reason, usage: usage)
                send(status: .ok, json: json, keepAlive: state.keepAlive, context: context)
            }
        case .failed(let error):
            finishCompletion()
            if state.headSent {
                // The status is gone already: the error is the stream's last event.
                sendEvent(error.body, context: context)
                endResponse(keepAlive: false, context: context)
            } else {
                send(error, keepAlive: state.keepAlive, context: context)
            }
        }
    }

    /// Sends the stream's head unless it went out already.
    private func startStream(_ state: inout ResponseState, context: ChannelHandlerContext) {
        guard !state.headSent else { return }
        sendStreamHead(context: context, keepAlive: state.keepAlive)
        state.headSent = true
    }

    /// Forgets the finished completion.
    private func finishCompletion() {
        completionDeadline?.cancel()
        completionDeadline = nil
        response = nil
    }

    /// The completion ran past the request timeout: it is cancelled, and the client gets a
    /// 504 if nothing was sent yet; the connection closes either way.
    func completionTimedOut(context: ChannelHandlerContext) {
        completionDeadline = nil
        guard let state = response else { return }
        state.cancel.set()
        response = nil
        if state.headSent {
            endResponse(keepAlive: false, context: context)
        } else {
            send(.completionTimeout, keepAlive: false, context: context)
        }
    }
}
