/**
 * Fraud detection (SPEC "Fraud and suspensions"): named, set-based SQL rules over a window, their
 * parameters, back-tests of a change, and the review queue of cases.
 */
export { RULE_NAMES, RULES, parseAssignment, parseRuleName, loadParams, defaultParams, withAssignments, type RuleName, type RuleParams, type ParamAssignment, type ParamDef } from './params.js';
export { scanWindow } from './window.js';
export { quote, scoreAbove, type Finding, type ScanWindow } from './finding.js';
export { RULE_DEFS, runRule, runRules } from './rules.js';
export { scanFraud, backtestFraud, type ScanResult, type ScannedFinding, type BacktestResult, type BacktestRule } from './scan.js';
export { upsertCases, listCases, getCase, dismissCase, markCasesActioned, CASE_STATUSES, type CaseStatus, type FraudCase, type DismissResult, type CaseOutcome } from './cases.js';
export { showRules, setRuleParam, type RuleSetting, type SetRuleResult } from './settings.js';
export { referenceKey, referenceKeySql } from './reference-key.js';
export { suspendUser, type SuspendInput, type SuspendResult, type LotPoints } from './suspend.js';
export { liftUser, type LiftInput, type LiftResult } from './lift.js';
export { listSuspensions, type Suspension } from './list.js';
