import NIOConcurrencyHelpers
import NIOCore

/// Counts the open connections and turns away those beyond `ServerLimits.maxConnections`:
/// each connection holds a little memory and a file descriptor, and idle ones stay up to the
/// read timeout, so a client opening thousands of them could otherwise exhaust either.
final class ConnectionGate: Sendable {
    private let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = limit }

    /// Admits `channel` when a place is free (the place frees when it closes).
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [open] _ in open.withLockedValue { $0 -= 1 } }
        }
        return admitted
    }

    /// Connections open now.
    var openConnections: Int { open.withLockedValue { $0 } }
}

/// The whole pipeline of a connection turned away: a 503 in OpenAI's error shape, then close.
/// Written as bytes, since no HTTP parsing is worth doing for a connection that is refused.
final class OverCapacityResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    static let reply: String = {
        let body =
            #"{"error": {"message": "too many open connections; retry later", "#
            + #""type": "server_error", "param": null, "code": "too_many_connections"}}"#
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
            + body
    }()

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let buffer = channel.allocator.buffer(string: Self.reply)
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
