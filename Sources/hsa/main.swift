import ArgumentParser
import HSA

print("hsa")
