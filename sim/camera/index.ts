/** The simulated ONVIF cameras: `startSimulatedCameras([{ id, username, password, rtspUrl?, skewMs? }])`. */
export { SimulatedCamera, startSimulatedCameras, type SimCameraOptions, type SimCameraSpec, type SimCameraStats } from './sim-camera.js';
export { WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT, type DiscoveryOptions } from './sim-discovery.js';
export { testJpeg } from './jpeg.js';
