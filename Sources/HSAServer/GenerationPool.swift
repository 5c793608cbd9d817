import HSAModel
import NIOConcurrencyHelpers
import NIOPosix

/// Runs completions off the event loop on `workers` threads, each with its own copy of the
/// model (a session is not thread-safe and the model builds its inference weights lazily), and
/// bounds the backlog: at most `workers + queueDepth` completions are admitted at once; the
/// next is refused at once (429) rather than queued without bound.
final class GenerationPool: Sendable {
    private let threads: NIOThreadPool
    /// The idle model copies; a job takes one and gives it back (never empty when a job
    /// starts: the pool has as many threads as copies).
    private let idle: NIOLockedValueBox<[LanguageModel]>
    private let admitted = NIOLockedValueBox(0)
    private let capacity: Int

    /// - Throws: `ServerSetupError` when a copy of the model cannot be loaded.
    init(catalog: ModelCatalog, limits: ServerLimits) throws {
        let workers = max(1, limits.workers)
        var models: [LanguageModel] = []
        for _ in 0..<workers {
            do {
                models.append(try catalog.loadModel())
            } catch {
                throw ServerSetupError("--model \(catalog.checkpoint.path): \(error)")
            }
        }
        idle = NIOLockedValueBox(models)
        capacity = workers + max(0, limits.queueDepth)
        threads = NIOThreadPool(numberOfThreads: workers)
        threads.start()
    }

    /// Completions admitted and not yet finished (running or waiting).
    var load: Int { admitted.withLockedValue { $0 } }

    /// Takes a place for one completion; false when all are taken. A true answer must be
    /// followed by exactly one `run`.
    func admit() -> Bool {
        admitted.withLockedValue { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    /// Gives back a place taken by `admit` without running anything.
    func release() { admitted.withLockedValue { $0 -= 1 } }

    /// Runs `body` on a worker with a model of its own. `body` gets `freePlace`, which frees
    /// the place `admit` took: call it before handing over the final answer, so a client that
    /// sends its next request on receipt never finds its own place still taken. It runs
    /// once, and after `body` at the latest.
    func run(
        _ body:
            @escaping @Sendable (LanguageModel, _ freePlace: @escaping @Sendable () -> Void)
            -> Void
    ) {
        threads.submit { [idle, admitted] state in
            let placeHeld = NIOLockedValueBox(true)
            let freePlace: @Sendable () -> Void = {
                let held = placeHeld.withLockedValue { held in
                    defer { held = false }
                    return held
                }
                if held { admitted.withLockedValue { $0 -= 1 } }  // as `release()`
            }
            defer { freePlace() }
            guard case .active = state else { return }
            guard let model = idle.withLockedValue({ $0.popLast() }) else { return }
            // Given back before the thread takes the next job (defers run last to first).
            defer { idle.withLockedValue { $0.append(model) } }
            body(model, freePlace)
        }
    }

    /// Waits for the running completions, then stops the threads.
    func shutdown() async throws { try await threads.shutdownGracefully() }
}
