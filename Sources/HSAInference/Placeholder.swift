import HSACore
