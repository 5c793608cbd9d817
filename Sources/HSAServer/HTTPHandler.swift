import Foundation
import NIOCore
import NIOHTTP1

/// One connection's handler, after NIO's HTTP/1.1 codec (which also holds back pipelined
/// requests until the current response ends): collects a request within the body limit and
/// the read deadline, routes it, and writes the answer. It runs on the connection's event
/// loop only; completions run on the `GenerationPool` and report back through
/// `deliver(_:context:)`.
final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: ServerContext
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// Set once a request was refused before it was read to the end: the rest of it is
    /// dropped and the connection closes.
    private var refusing = false
    /// Closes the connection when a request takes too long to arrive (or an idle keep-alive
    /// connection waits too long for the next).
    private var readDeadline: Scheduled<Void>?
    /// The completion being answered, if any.
    var response: ResponseState?
    /// Ends the completion when it runs past the request timeout.
    var completionDeadline: Scheduled<Void>?

    init(server: ServerContext) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        armReadDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        readDeadline?.cancel()
        completionDeadline?.cancel()
        response?.cancel.set()
        response = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            guard !refusing else { return }
            head = requestHead
            body.clear()
            let declared = requestHead.headers.first(name: "content-length").flatMap { Int($0) }
            if let declared, declared > server.limits.maxBodyBytes {
                refuse(context: context, .tooLarge(limit: server.limits.maxBodyBytes))
            } else if requestHead.headers.first(name: "expect")?.lowercased() == "100-continue" {
                // curl waits a second for this before sending a body over 1 KiB.
                let interim = HTTPResponseHead(version: requestHead.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
            }
        case .body(var part):
            guard !refusing, head != nil else { return }
            guard body.readableBytes + part.readableBytes <= server.limits.maxBodyBytes else {
                refuse(context: context, .tooLarge(limit: server.limits.maxBodyBytes))
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard !refusing, let requestHead = head else { return }
            head = nil
            readDeadline?.cancel()
            readDeadline = nil
            route(requestHead, body: Data(body.readableBytesView), context: context)
        }
    }

    /// Answers `error` before the request was read to the end, then closes.
    private func refuse(context: ChannelHandlerContext, _ error: APIError) {
        refusing = true
        readDeadline?.cancel()
        send(error, keepAlive: false, context: context)
    }

    /// (Re)starts the deadline for the next request.
    func armReadDeadline(context: ChannelHandlerContext) {
        readDeadline?.cancel()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        readDeadline = context.eventLoop.scheduleTask(
            in: .milliseconds(Int64(server.limits.readTimeout * 1000))
        ) {
            handler.value.readTimedOut(context: boundContext.value)
        }
    }

    /// A request began and did not end in time: 408; an idle connection just closes.
    private func readTimedOut(context: ChannelHandlerContext) {
        readDeadline = nil
        guard response == nil else { return }
        if head != nil, !refusing {
            refusing = true
            send(.readTimeout, keepAlive: false, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    /// Dispatches a whole request to its route.
    private func route(_ head: HTTPRequestHead, body: Data, context: ChannelHandlerContext) {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        let keepAlive = head.isKeepAlive
        let routes: [String: HTTPMethod] = [
            "/health": .GET, "/v1/models": .GET, "/v1/completions": .POST,
        ]
        guard let method = routes[path] else {
            return send(.noRoute(head.method, path), keepAlive: keepAlive, context: context)
        }
        guard head.method == method else {
            return send(.wrongMethod(head.method, path), keepAlive: keepAlive, context: context)
        }
        if path == "/health" {
            let health: [String: Any] = [
                "status": "ok", "models": server.catalog.ids, "load": server.pool.load,
            ]
            let json = (try? JSONSerialization.data(withJSONObject: health)) ?? Data()
            return send(status: .ok, json: json, keepAlive: keepAlive, context: context)
        }
        if let key = server.apiKey,
            !key.accepts(authorization: head.headers.first(name: "authorization"))
        {
            return send(.unauthorized, keepAlive: keepAlive, context: context)
        }
        if path == "/v1/models" {
            let list = ModelList(ids: server.catalog.ids, created: server.started)
            return send(status: .ok, json: list.json, keepAlive: keepAlive, context: context)
        }
        startCompletion(body: body, keepAlive: keepAlive, context: context)
    }
}
