import Dispatch
import Foundation

/// SIGTERM and SIGINT as a request to stop: their default action (dying at once, mid-answer)
/// is replaced by `handler`, which runs on a dispatch queue at each signal for as long as this
/// value lives.
struct ShutdownSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)  // the dispatch source sees it; the default action does not run
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }
}
