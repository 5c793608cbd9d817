@_exported import HSACore
@_exported import HSACPU
@_exported import HSAData
@_exported import HSAModel
@_exported import HSATrain
