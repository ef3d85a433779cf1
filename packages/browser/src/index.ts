/**
 * @concord/browser: a Concord replica in the page. SQL over a core replica stored in
 * IndexedDB (idb-keyval), replicating with node peers over libp2p WebSockets, usable
 * offline, with an observable connection state.
 */
export { openReplica, ReplicaInUseError, type OpenReplicaOptions, type BrowserDatabase, type BrowserExtras } from './open-replica.js'
export { IdbStorage, deleteIdbStorage, type IdbStorageOptions } from './storage/idb-storage.js'
export { CorruptIdbRecordError } from './storage/idb-record.js'
export { BrowserTransport, type BrowserTransportOptions, type PeerInfo, type TargetInfo, type DialState } from './transport/browser-transport.js'
export { ConnectionMonitor, type ConnectionState, type ConnectionStatus } from './status/connection-monitor.js'
export { isWebSocketAddr, isLocalAddr, denyDial, exchangeCandidates } from './transport/dial-policy.js'
export { joinAddresses, JoinAddressError } from './transport/join-address.js'
export { describeDialError } from './transport/dial-error.js'
