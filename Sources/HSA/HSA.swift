@_exported import HSACore
@_exported import HSACPU
@_exported import HSAData
@_exported import HSAModel
@_exported import HSATrain
@_exported import HSACUDA
@_exported import HSAEval
@_exported import HSAInference
