// Every text the pages show, in English and Simplified Chinese. t(key) answers in the chosen
// language (kept in localStorage), falling back to English, then to the key itself.
export const STRINGS = {
  en: {
    title: 'Gatehouse console',
    username: 'Username', password: 'Password', login: 'Sign in', logout: 'Sign out',
    loginFailed: 'Wrong username or password.', lockedOut: 'Too many failed attempts. Try again later.',
    loginBusy: 'The console is busy checking other sign-ins. Try again in a few seconds.',
    lockedOutFor: 'Too many failed attempts. Try again in {s} s.',
    setupTitle: 'Create the first administrator', setupDone: 'Administrator created. You can sign in now.',
    setupFailed: 'The setup link is wrong, used or expired.', passwordHint: 'At least 12 characters.',
    'nav.alarms': 'Alarms', 'nav.video': 'Video wall', 'nav.doors': 'Doors', 'nav.zones': 'Perimeter',
    'nav.charging': 'Charging', 'nav.devices': 'Devices', 'nav.system': 'System',
    'role.guard': 'guard', 'role.installer': 'installer', 'role.admin': 'administrator',
    live: 'live', offline: 'reconnecting…', failed: 'The request failed', done: 'Done.',
    yes: 'Yes', no: 'No', unknown: 'unknown', cancel: 'Cancel', none: 'none', refresh: 'Refresh',
    online: 'online', offlineState: 'offline', loading: 'Loading…',
    // alarms
    openAlarms: 'Open alarms', noAlarms: 'No open alarms.', acknowledge: 'Acknowledge', close: 'Close',
    acknowledgedBy: 'acknowledged by', closedBy: 'closed by', note: 'Note', notePlaceholder: 'Note (optional)',
    acknowledgedOk: 'Alarm acknowledged.', closedOk: 'Alarm closed.', snapshot: 'Snapshot',
    verification: 'Verification video',
    source: 'Source', raisedAt: 'raised', lastAt: 'last', activeNow: 'condition still present',
    'state.raised': 'raised', 'state.acknowledged': 'acknowledged', 'state.cleared': 'cleared', 'state.closed': 'closed',
    'priority.critical': 'critical', 'priority.high': 'high', 'priority.medium': 'medium', 'priority.low': 'low',
    'kind.door.forced': 'door forced open', 'kind.door.held_open': 'door held open', 'kind.zone.alarm': 'perimeter intrusion',
    'kind.zone.tamper': 'tamper', 'kind.zone.panic': 'SOS / panic', 'kind.zone.fire': 'fire', 'kind.zone.fault': 'zone line fault',
    'kind.charging.fire': 'cabinet fire', 'kind.cabinet.unsupervised': 'cabinet unsupervised', 'kind.device.offline': 'device offline', 'kind.reader.offline': 'reader offline',
    'kind.module.offline': 'input module offline', 'kind.camera.tamper': 'camera tamper',
    'kind.reader.power_failure': 'reader power failure',
    'kind.device.flapping': 'device flapping (held offline)',
    'kind.outbox.disk_full': 'gateway disk full: events are not being recorded',
    // video
    videoWall: 'Video wall', noCameras: 'No cameras.', takeSnapshot: 'Snapshot', preset: 'Preset', gotoPreset: 'Go to preset',
    snapshotTaken: 'Snapshot taken.', videoUnavailable: 'The video player could not be loaded.',
    // doors
    doors: 'Doors', noDoors: 'No doors.', door: 'Door', doorState: 'State', remoteOpen: 'Open', holdUnlocked: 'Hold unlocked',
    lockDoor: 'Lock', confirmOpen: 'Open door {door} now?', confirmUnlock: 'Keep door {door} unlocked until it is locked again?',
    doorOpened: 'Door opened.', 'door.locked': 'locked', 'door.unlocked': 'unlocked', 'door.open': 'open', 'door.closed': 'closed',
    'door.noContact': 'no contact', 'door.forced': 'FORCED', 'door.heldOpen': 'held open', 'door.offline': 'reader offline',
    'mode.normal': 'normal', 'mode.unlocked': 'held unlocked', 'mode.fire': 'fire release',
    accessEvents: 'Recent access', time: 'Time', event: 'Event', reader: 'Reader', method: 'Method', credential: 'Credential',
    reason: 'Reason', noEvents: 'No events yet.', 'access.granted': 'granted', 'access.denied': 'denied',
    // zones
    partitions: 'Partitions', partition: 'Partition', zones: 'Zones', zone: 'Zone', arm: 'Arm', disarm: 'Disarm',
    armed: 'armed', disarmed: 'disarmed', by: 'by', since: 'since', notReady: 'not ready', override: 'manual override',
    bypass: 'Bypass', unbypass: 'Unbypass', minutes: 'minutes', bypassedUntil: 'bypassed until', type: 'Type',
    condition: 'Condition', module: 'Module', noZones: 'No zones.', noPartitions: 'No partitions.',
    confirmDisarm: 'Disarm partition {partition}?',
    'zone.normal': 'normal', 'zone.alarm': 'alarm', 'zone.fault': 'fault', 'zone.bypassed': 'bypassed',
    'ztype.perimeter': 'perimeter', 'ztype.h24': '24 h', 'ztype.panic': 'panic', 'ztype.fire': 'fire',
    // charging
    cabinets: 'Charging cabinets', noCabinets: 'No charging cabinets.', port: 'Port', power: 'Power', sessions: 'Open sessions',
    noSessions: 'No open sessions.', session: 'Session', energyPerDay: 'Energy per day (kWh)', stop: 'Stop', start: 'Start',
    confirmStop: 'Stop charging on {cabinet} port {port}?', mains: 'Mains', temperature: 'Temperature', smoke: 'Smoke',
    cabinetDoor: 'Door', latched: 'latched', unsupervised: 'unsupervised (safety registers unreadable)', unknownValue: 'unknown', 'port.available': 'available', 'port.plugged': 'plugged', 'port.charging': 'charging',
    'port.fault': 'fault', 'port.disabled': 'disabled', 'port.finishing': 'finishing', 'port.unknown': 'unknown', noEnergy: 'No finished sessions yet.',
    // devices
    devices: 'Devices', device: 'Device', kind: 'Kind', status: 'Status', lastSeen: 'Last seen', noDevices: 'No devices.',
    'dkind.door': 'door', 'dkind.reader': 'reader', 'dkind.lock': 'smart lock', 'dkind.cabinet': 'charging cabinet',
    'dkind.camera': 'camera', 'dkind.zone': 'zone', 'dkind.partition': 'partition', 'dkind.module': 'input module',
    'dkind.access': 'credentials', 'dkind.alarms': 'alarms', 'dkind.other': 'other',
    // system
    system: 'System', uplink: 'Platform uplink', connected: 'connected', disconnected: 'disconnected', outbox: 'Outbox',
    backlog: 'Events waiting', oldestEvent: 'Oldest event', lastAck: 'Last acknowledged', lastError: 'Last error',
    version: 'Version', compound: 'Compound', gateway: 'Gateway', clock: 'Clock', failedComponents: 'Failed components',
    users: 'Console users', addUser: 'Add user', roleLabel: 'Role', created: 'Created', newPassword: 'New password',
    setPassword: 'Set password', disableUser: 'Disable', disabledUser: 'disabled', activeUser: 'active',
    userAdded: 'User added.', userDisabled: 'User disabled.', passwordChanged: 'Password changed.',
    confirmDisableUser: 'Disable user {user}? They are signed out and cannot sign in again.',
    staffOnly: 'This page is for installers and administrators.',
    openAlarmCount: 'Open alarms', reconnects: 'Reconnects', storage: 'Storage used', ago: '{n} ago',
    // coded errors
    'err.ALARM_ACTIVE': 'the alarm condition is still present; it can be closed once it clears',
    'err.ALARM_CLOSED': 'the alarm is already closed', 'err.ALARM_ACKNOWLEDGED': 'the alarm is already acknowledged',
    'err.ALARM_UNKNOWN': 'no such alarm', 'err.DEVICE_OFFLINE': 'the device does not answer', 'err.DEVICE_UNKNOWN': 'no such device',
    'err.DEVICE_REFUSED': 'the device refused', 'err.CMD_FORBIDDEN': 'your role may not do this', 'err.CMD_INVALID': 'invalid request',
    'err.CMD_TIMEOUT': 'the device did not answer in time', 'err.CONSOLE_CSRF': 'the page is out of date; reload it',
    'err.CONSOLE_FORBIDDEN': 'your role may not do this', 'err.CONSOLE_AUTH_REQUIRED': 'please sign in again',
    'err.NETWORK': 'the console cannot be reached', 'err.CONSOLE_USER_EXISTS': 'this user already exists',
    'err.CONSOLE_PASSWORD_WEAK': 'the password is too weak (at least 12 characters)', 'err.CONSOLE_USER_UNKNOWN': 'no such user', 'err.CMD_UNKNOWN': 'unknown command', 'err.LIVE_VIEW_LIMIT': 'too many live views',
    'err.CONSOLE_LAST_ADMIN': 'this is the last administrator: create another one first',
  },
  'zh-CN': {
    title: 'Gatehouse 安防控制台',
    username: '用户名', password: '密码', login: '登录', logout: '退出登录',
    loginFailed: '用户名或密码错误。', lockedOut: '失败次数过多，请稍后再试。',
    loginBusy: '控制台正在验证其他登录，请几秒后再试。',
    lockedOutFor: '失败次数过多，请 {s} 秒后再试。',
    setupTitle: '创建首个管理员', setupDone: '管理员已创建，现在可以登录。',
    setupFailed: '设置链接无效、已使用或已过期。', passwordHint: '至少 12 个字符。',
    'nav.alarms': '告警', 'nav.video': '视频墙', 'nav.doors': '门禁', 'nav.zones': '周界',
    'nav.charging': '充电', 'nav.devices': '设备', 'nav.system': '系统',
    'role.guard': '保安', 'role.installer': '安装人员', 'role.admin': '管理员',
    live: '实时', offline: '正在重连…', failed: '操作失败', done: '已完成。',
    yes: '是', no: '否', unknown: '未知', cancel: '取消', none: '无', refresh: '刷新',
    online: '在线', offlineState: '离线', loading: '加载中…',
    openAlarms: '未关闭告警', noAlarms: '没有未关闭的告警。', acknowledge: '确认', close: '关闭',
    acknowledgedBy: '确认人', closedBy: '关闭人', note: '备注', notePlaceholder: '备注（可选）',
    acknowledgedOk: '告警已确认。', closedOk: '告警已关闭。', snapshot: '抓拍',
    verification: '复核视频',
    source: '来源', raisedAt: '触发于', lastAt: '最近', activeNow: '告警条件仍存在',
    'state.raised': '已触发', 'state.acknowledged': '已确认', 'state.cleared': '已恢复', 'state.closed': '已关闭',
    'priority.critical': '紧急', 'priority.high': '高', 'priority.medium': '中', 'priority.low': '低',
    'kind.door.forced': '门被强行打开', 'kind.door.held_open': '门长时间未关', 'kind.zone.alarm': '周界入侵',
    'kind.zone.tamper': '防拆', 'kind.zone.panic': '紧急求救', 'kind.zone.fire': '火警', 'kind.zone.fault': '防区线路故障',
    'kind.charging.fire': '充电柜火警', 'kind.cabinet.unsupervised': '充电柜失去监控', 'kind.device.offline': '设备离线', 'kind.reader.offline': '读卡器离线',
    'kind.module.offline': '输入模块离线', 'kind.camera.tamper': '摄像机遮挡/破坏',
    'kind.reader.power_failure': '读卡器电源故障',
    'kind.device.flapping': '设备频繁掉线（暂按离线处理）',
    'kind.outbox.disk_full': '网关磁盘已满：事件无法记录',
    videoWall: '视频墙', noCameras: '没有摄像机。', takeSnapshot: '抓拍', preset: '预置位', gotoPreset: '转到预置位',
    snapshotTaken: '已抓拍。', videoUnavailable: '无法加载视频播放器。',
    doors: '门禁', noDoors: '没有门。', door: '门', doorState: '状态', remoteOpen: '开门', holdUnlocked: '常开',
    lockDoor: '上锁', confirmOpen: '现在打开 {door} 吗？', confirmUnlock: '让 {door} 保持开锁，直到再次上锁？',
    doorOpened: '门已打开。', 'door.locked': '已上锁', 'door.unlocked': '已开锁', 'door.open': '门开', 'door.closed': '门关',
    'door.noContact': '无门磁', 'door.forced': '强行开门', 'door.heldOpen': '长时间未关', 'door.offline': '读卡器离线',
    'mode.normal': '正常', 'mode.unlocked': '常开', 'mode.fire': '消防释放',
    accessEvents: '最近通行记录', time: '时间', event: '事件', reader: '读卡器', method: '方式', credential: '凭证',
    reason: '原因', noEvents: '暂无事件。', 'access.granted': '允许通行', 'access.denied': '拒绝通行',
    partitions: '分区', partition: '分区', zones: '防区', zone: '防区', arm: '布防', disarm: '撤防',
    armed: '已布防', disarmed: '已撤防', by: '操作人', since: '自', notReady: '未就绪', override: '手动覆盖',
    bypass: '旁路', unbypass: '取消旁路', minutes: '分钟', bypassedUntil: '旁路至', type: '类型',
    condition: '状态', module: '模块', noZones: '没有防区。', noPartitions: '没有分区。',
    confirmDisarm: '撤防分区 {partition}？',
    'zone.normal': '正常', 'zone.alarm': '报警', 'zone.fault': '故障', 'zone.bypassed': '已旁路',
    'ztype.perimeter': '周界', 'ztype.h24': '24 小时', 'ztype.panic': '紧急', 'ztype.fire': '火警',
    cabinets: '充电柜', noCabinets: '没有充电柜。', port: '端口', power: '功率', sessions: '进行中的充电',
    noSessions: '没有进行中的充电。', session: '会话', energyPerDay: '每日电量（千瓦时）', stop: '停止', start: '开始',
    confirmStop: '停止 {cabinet} 端口 {port} 的充电？', mains: '市电', temperature: '温度', smoke: '烟雾',
    cabinetDoor: '柜门', latched: '已锁定', unsupervised: '失去监控（安全寄存器无法读取）', unknownValue: '未知', 'port.available': '空闲', 'port.plugged': '已插入', 'port.charging': '充电中',
    'port.fault': '故障', 'port.disabled': '已停用', 'port.finishing': '即将充满', 'port.unknown': '未知', noEnergy: '暂无已结束的充电。',
    devices: '设备', device: '设备', kind: '类别', status: '状态', lastSeen: '最后在线', noDevices: '没有设备。',
    'dkind.door': '门', 'dkind.reader': '读卡器', 'dkind.lock': '智能锁', 'dkind.cabinet': '充电柜',
    'dkind.camera': '摄像机', 'dkind.zone': '防区', 'dkind.partition': '分区', 'dkind.module': '输入模块',
    'dkind.access': '凭证', 'dkind.alarms': '告警', 'dkind.other': '其他',
    system: '系统', uplink: '平台上行链路', connected: '已连接', disconnected: '未连接', outbox: '待发事件队列',
    backlog: '待发事件', oldestEvent: '最早事件', lastAck: '最近确认', lastError: '最近错误',
    version: '版本', compound: '小区', gateway: '网关', clock: '时钟', failedComponents: '故障组件',
    users: '控制台用户', addUser: '添加用户', roleLabel: '角色', created: '创建时间', newPassword: '新密码',
    setPassword: '设置密码', disableUser: '停用', disabledUser: '已停用', activeUser: '正常',
    userAdded: '用户已添加。', userDisabled: '用户已停用。', passwordChanged: '密码已修改。',
    confirmDisableUser: '停用用户 {user}？该用户将被登出且无法再登录。',
    staffOnly: '此页面仅供安装人员和管理员使用。',
    openAlarmCount: '未关闭告警', reconnects: '重连次数', storage: '已用存储', ago: '{n}前',
    'err.ALARM_ACTIVE': '告警条件仍存在，恢复后才能关闭', 'err.ALARM_CLOSED': '告警已关闭', 'err.ALARM_ACKNOWLEDGED': '告警已被确认',
    'err.ALARM_UNKNOWN': '告警不存在', 'err.DEVICE_OFFLINE': '设备无响应', 'err.DEVICE_UNKNOWN': '设备不存在',
    'err.DEVICE_REFUSED': '设备拒绝执行', 'err.CMD_FORBIDDEN': '您的角色无权执行此操作', 'err.CMD_INVALID': '请求无效',
    'err.CMD_TIMEOUT': '设备未及时响应', 'err.CONSOLE_CSRF': '页面已过期，请刷新',
    'err.CONSOLE_FORBIDDEN': '您的角色无权执行此操作', 'err.CONSOLE_AUTH_REQUIRED': '请重新登录',
    'err.NETWORK': '无法连接控制台', 'err.CONSOLE_USER_EXISTS': '该用户已存在',
    'err.CONSOLE_PASSWORD_WEAK': '密码强度不足（至少 12 个字符）', 'err.CONSOLE_USER_UNKNOWN': '用户不存在', 'err.CMD_UNKNOWN': '未知命令', 'err.LIVE_VIEW_LIMIT': '实时视频路数已满',
    'err.CONSOLE_LAST_ADMIN': '这是最后一个管理员：请先创建另一个管理员',
  },
};

const KEY = 'gatehouse.lang';
let lang = (() => {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && STRINGS[saved]) return saved;
  } catch { /* storage disabled */ }
  return 'en';
})();

export const getLang = () => lang;
export function setLang(l) {
  if (!STRINGS[l]) return;
  lang = l;
  try { localStorage.setItem(KEY, l); } catch { /* storage disabled */ }
}

/** The text of key in the current language; {name} placeholders filled from vars. */
export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
