@_exported import HSACPU
@_exported import HSACUDA
@_exported import HSACore
@_exported import HSAData
@_exported import HSAEval
@_exported import HSAInference
@_exported import HSAModel
@_exported import HSATrain
