export { BOOT_MODES, FENCE_BEGIN, FENCE_END, INITTAB_LINE, RCLOCAL_CSH_LINE, RCLOCAL_SH_LINE, SYSTEMD_UNIT, applyBoot, chooseBoot, editBootText, ensureServiceDir, planBoot, systemdUnitText, undoBoot } from './boot.js';
export type { BootChoice, BootEdit, BootMode, BootPlan, BootRequest, BootUndo } from './boot.js';
