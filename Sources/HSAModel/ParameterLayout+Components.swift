extension ParameterLayout {
    /// Parameter counts per component, in layout order: `embed`, `lower.0`, ..., `encoder`,
    /// `upper.0`, `upper.0.hsa`, ... (what `hsa inspect` prints).
    public var componentCounts: [(component: String, count: Int)] {
        var groups: [(component: String, count: Int)] = []
        for spec in specs {
            let component = Self.component(of: spec.name)
            if let last = groups.last, last.component == component {
                groups[groups.count - 1].count += spec.count
            } else {
                groups.append((component, spec.count))
            }
        }
        return groups
    }

    /// The component a tensor belongs to: `lower.0`, `encoder`, `upper.2.hsa`, `embed`, ...
    static func component(of name: String) -> String {
        let parts = name.split(separator: ".")
        switch parts.first {
        case "lower", "upper":
            let base = parts.prefix(2).joined(separator: ".")
            return parts.count > 2 && parts[2] == "hsa" ? base + ".hsa" : base
        case "encoder":
            return "encoder"
        default:
            return String(parts.first ?? "")
        }
    }
}
