import Foundation

/// Why a document memory could not be built, extended or read. Each message is one line that
/// starts with the file or directory at fault.
public enum DocumentMemoryError: Error, CustomStringConvertible, Equatable {
    /// The directory holds no memory.json.
    case notAMemory(directory: String)
    /// `memory append`'s or `ask`'s model is not the one the memory was built with.
    case otherModel(manifest: String, difference: ModelIdentity.Difference, builtWith: String)
    /// A file of the memory is missing, has the wrong size or fails its checksum.
    case damaged(file: String, reason: String)
    /// memory.json is of another format or version.
    case unsupportedFormat(manifest: String, reason: String)
    /// `memory build` into a directory that already holds files.
    case notEmpty(directory: String, holdsMemory: Bool)
    /// A document to read is missing or unreadable.
    case unreadableDocument(path: String, reason: String)
    /// A file of the memory could not be created or written.
    case cannotWrite(path: String, reason: String)
    /// The model given to a writer is not the one its checkpoint's config describes.
    case notTheCheckpointsModel(checkpoint: String)
    /// No model was given and the one the memory was built with is no longer where it was.
    case modelGone(manifest: String, checkpoint: String)

    /// The message, with a hint where one is known.
    public var description: String {
        switch self {
        case .notAMemory(let directory):
            return "\(directory): not a document memory (no memory.json); hint: build one with "
                + "hsa memory build --model MODEL --out \(directory) FILE..."
        case .otherModel(let manifest, let difference, let builtWith):
            return "\(manifest): built with another model (its \(difference.what) is "
                + "\(difference.mine), the given model's \(difference.theirs)); hint: use the "
                + "model it was built with (\(builtWith)) or build a memory for this one"
        case .damaged(let file, let reason):
            return "\(file): \(reason); hint: the document memory is damaged, build it again "
                + "with hsa memory build"
        case .unsupportedFormat(let manifest, let reason):
            return "\(manifest): \(reason)"
        case .notEmpty(let directory, let holdsMemory):
            return holdsMemory
                ? "\(directory): already holds a document memory; hint: add files with hsa "
                    + "memory append \(directory) FILE..., or give another --out"
                : "\(directory): is not empty; hint: give a new or empty directory as --out"
        case .unreadableDocument(let path, let reason):
            return "\(path): cannot read (\(reason))"
        case .cannotWrite(let path, let reason):
            return "\(path): cannot write (\(reason)); hint: check free space and permissions"
        case .notTheCheckpointsModel(let checkpoint):
            return "\(checkpoint): the model given is not this checkpoint's (its config "
                + "differs from config.json)"
        case .modelGone(let manifest, let checkpoint):
            return "\(manifest): the model it was built with is no longer at \(checkpoint); "
                + "hint: give it with --model"
        }
    }
}
