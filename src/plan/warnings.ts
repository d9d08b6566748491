/**
 * What makes a check's answer uncertain, as one line each: names that could not be resolved,
 * templates that could not be seen, `tables` names no template declares, reads that failed, an
 * unknown identity. Pure. Each line becomes a warning annotation and a line in the report's first
 * section: a note that means "this check may be wrong" is never only a log line.
 */
import type { Check } from '../types.js'

export function checkWarnings(check: Check): string[] {
  const warnings = [...check.discovery.warnings]
  if (check.identityProblem) {
    warnings.push(`${check.identityProblem}: the account the tables are in could not be confirmed`)
  }
  for (const f of check.inspection.findings) {
    if (f.notCheckable) warnings.push(`${f.tableName} (${f.region}) is not checked: ${f.notCheckable}`)
    for (const problem of f.problems) warnings.push(`${f.tableName}: ${problem}`)
  }
  return warnings
}
