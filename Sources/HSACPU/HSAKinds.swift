// AttentionMask, RetrievalGranularity and FusionKind moved to HSACore (Tensor/HSAKinds.swift)
// so that every backend shares them. Re-exporting HSACore keeps `import HSACPU` code compiling.
@_exported import HSACore
