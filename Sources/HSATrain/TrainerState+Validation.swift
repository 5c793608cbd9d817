import HSAModel

extension TrainerState {
    /// Throws `CheckpointError.invalid` naming `file` and the field when a count is out of
    /// range: a hand-edited or corrupt `trainer_state.json` is refused on load, before the
    /// optimizer or the schedule computes with it.
    func validate(file: String) throws {
        func require(_ ok: Bool, _ field: String, _ range: String, _ value: Int) throws {
            guard ok else {
                throw CheckpointError.invalid(
                    file: file, reason: "\(field) must be in \(range), got \(value)")
            }
        }
        try require(step >= 0, "step", "0...", step)
        try require(tokensSeen >= 0, "tokens_seen", "0...", tokensSeen)
        if let skippedSteps {
            try require(
                (0...step).contains(skippedSteps), "skipped_steps", "0...\(step) (the step)",
                skippedSteps)
        }
    }
}
