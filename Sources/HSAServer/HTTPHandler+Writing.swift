import Foundation
import NIOCore
import NIOHTTP1

// Writing whole responses and the parts of a streamed one.

extension HTTPHandler {
    /// Sends a whole JSON response; then waits for the next request or closes.
    func send(
        status: HTTPResponseStatus, json: Data, keepAlive: Bool, context: ChannelHandlerContext,
        extraHeaders: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([
            ("Content-Type", "application/json"), ("Content-Length", "\(json.count)"),
        ])
        headers.add(contentsOf: extraHeaders)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))),
            promise: nil)
        endResponse(keepAlive: keepAlive, context: context)
    }

    /// Sends `error` in OpenAI's shape.
    func send(_ error: APIError, keepAlive: Bool, context: ChannelHandlerContext) {
        var extra: [(String, String)] = []
        if error.status == .tooManyRequests { extra.append(("Retry-After", "1")) }
        if error.status == .unauthorized { extra.append(("WWW-Authenticate", "Bearer")) }
        send(
            status: error.status, json: error.body, keepAlive: keepAlive, context: context,
            extraHeaders: extra)
    }

    /// Writes the end of the response; then re-arms the read deadline or closes.
    func endResponse(keepAlive: Bool, context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            armReadDeadline(context: context)
        } else {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Starts a server-sent-events response.
    func sendStreamHead(context: ChannelHandlerContext, keepAlive: Bool) {
        var headers = HTTPHeaders([
            ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
        ])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    /// Sends one event, `data: <payload>` and a blank line, at once.
    func sendEvent(_ payload: Data, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: payload.count + 8)
        buffer.writeString("data: ")
        buffer.writeBytes(payload)
        buffer.writeString("\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }
}
